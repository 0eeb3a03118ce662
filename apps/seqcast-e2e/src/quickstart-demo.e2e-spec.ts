/**
 * The quick start's demo (`npm run start:local` ends with it, `npm run demo` reruns it) against the
 * built services as real processes: it is the first thing a new user runs, so it must pass. It once
 * exited 1 after ingest began refusing a re-used clientMsgId with a different payload (409), which
 * its "deliberate duplicate" was; nothing ran it.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TEST_JWT_SECRET } from '@seqcast/testing';
import { startStack, type Stack } from './support/stack';

const run = promisify(execFile);
const demo = join(__dirname, '../../../tools/demo/demo.cjs');

describe('quick-start demo (tools/demo/demo.cjs)', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack();
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  it('delivers every room once, in order, and exits 0', async () => {
    const { stdout } = await run(process.execPath, [demo], {
      env: {
        PATH: process.env['PATH'] ?? '',
        INGEST_URL: stack.ingest.url,
        GATEWAY_URL: stack.gateway.url,
        SEQCAST_JWT_SECRET: TEST_JWT_SECRET,
      },
      timeout: 60_000,
    });
    expect(stdout).toContain('retry of message 1 -> 202');
    expect(stdout).toContain('"duplicate":true');
    for (const room of ['demo:alpha', 'demo:beta', 'demo:gamma']) {
      expect(stdout).toContain(`${room}: 10/10 received, chain intact, order as published`);
    }
    expect(stdout).toContain('demo: OK');
  }, 90_000);
});
