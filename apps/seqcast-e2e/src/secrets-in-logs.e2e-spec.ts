/**
 * Issue 12 §7: secrets stay out of logs. The three built services run at the most verbose log level
 * while clients do everything that could make a careless service echo a credential: publish and
 * read with a valid token, send expired, forged and malformed tokens over HTTP and in socket
 * handshakes, send bodies the API refuses, subscribe, and shut the stack down. Then every line the
 * processes wrote (their captured stdout and stderr) is searched for the tokens and the JWT secret.
 * The management port is checked too: /metrics is served there and nowhere on the public ports.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { signToken } from '@seqcast/auth';
import { TEST_JWT_SECRET, waitFor } from '@seqcast/testing';
import jwt from 'jsonwebtoken';
import { io } from 'socket.io-client';
import { type Stack, startStack } from './support/stack';

const ROOM = 'e2e-secrets:general';

describe('secrets never reach the logs (three services as processes, verbose logging)', () => {
  let stack: Stack | undefined;
  let running!: Stack;
  const valid = signToken({ sub: 'secret-tester', rooms: ['e2e-secrets:*'] }, TEST_JWT_SECRET);
  const expired = jwt.sign(
    { sub: 'secret-tester', rooms: ['*'], exp: Math.floor(Date.now() / 1000) - 60 },
    TEST_JWT_SECRET,
  );
  const forged = jwt.sign({ sub: 'mallory', rooms: ['*'] }, 'not-the-secret', { expiresIn: '1h' });
  const malformed = 'eyJhbGciOiJIUzI1NiJ9.not-json.bWFsZm9ybWVkLXNpZ25hdHVyZQ';
  const credentials = { valid, expired, forged, malformed, secret: TEST_JWT_SECRET };

  beforeAll(async () => {
    running = stack = await startStack({ env: { LOG_LEVEL: 'verbose' } });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('writes no token and no JWT secret to any service log', async () => {
    const post = (token: string, body: string, headers: Record<string, string> = {}) =>
      fetch(`${running.ingest.url}/v1/rooms/${ROOM}/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
        body,
      });

    expect((await post(valid, JSON.stringify({ clientMsgId: 's-1', payload: { t: 1 } }))).status).toBe(202);
    for (const token of [expired, forged, malformed]) {
      expect((await post(token, JSON.stringify({ clientMsgId: 's-2', payload: 1 }))).status).toBe(401);
    }
    // Refused bodies and headers: the error paths log the most.
    expect((await post(valid, '{"clientMsgId":')).status).toBe(400);
    expect((await post(valid, '{}', { 'content-encoding': 'gzip' })).status).toBe(400);
    expect(
      (await post(valid, JSON.stringify({ clientMsgId: 's-3', payload: 1 }), { origin: 'http://evil.example' })).status,
    ).toBe(
      202, // NODE_ENV=test: any origin
    );
    const history = await fetch(`${running.ingest.url}/v1/rooms/${ROOM}/messages?afterSeq=-1`, {
      headers: { authorization: `Bearer ${valid}` },
    });
    expect(history.status).toBe(200);
    await fetch(`${running.ingest.url}/v1/rooms/${ROOM}/messages?token=${valid}`, {
      headers: { authorization: `Bearer ${forged}` },
    });

    // Socket handshakes: one valid, each bad token refused.
    const socket = io(running.gateway.url, { auth: { token: valid }, transports: ['websocket'], reconnection: false });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    const ack = await socket.timeout(10_000).emitWithAck('subscribe', { roomId: ROOM, afterSeq: -1 });
    expect(ack).toMatchObject({ ok: true });
    socket.close();
    for (const token of [expired, forged, malformed]) {
      const refused = io(running.gateway.url, { auth: { token }, transports: ['websocket'], reconnection: false });
      await expect(
        new Promise((resolve, reject) => {
          refused.once('connect', () => reject(new Error('connected with a bad token')));
          refused.once('connect_error', (error) => resolve(error.message));
        }),
      ).resolves.toBe('unauthorized');
      refused.close();
    }

    // Metrics only on the management port.
    for (const service of [running.ingest, running.gateway, running.worker]) {
      expect((await fetch(`${service.url}/metrics`)).status).toBe(404);
      const scraped = await fetch(`${service.managementUrl}/metrics`);
      expect(scraped.status).toBe(200);
      expect(await scraped.text()).toContain('process_resident_memory_bytes');
    }

    // Wait until the message went all the way through (the worker and the gateway logged their part).
    await waitFor(
      async () => {
        const page = await fetch(`${running.ingest.url}/v1/rooms/${ROOM}/messages?afterSeq=-1`, {
          headers: { authorization: `Bearer ${valid}` },
        });
        return ((await page.json()) as { messages: unknown[] }).messages.length === 2;
      },
      { timeoutMs: 30_000, what: 'both messages sequenced' },
    );

    const services = [running.ingest, running.worker, running.gateway];
    stack = undefined;
    await running.stop();
    let logged = 0;
    for (const service of services) {
      const log = readFileSync(service.logPath, 'utf8');
      logged += log.length;
      for (const [name, value] of Object.entries(credentials)) {
        // The signature alone identifies a token; a log line must not carry even that.
        const needle = name === 'secret' ? value : value.split('.').slice(-1)[0];
        if (log.includes(needle))
          throw new Error(`${service.label}'s log contains the ${name} credential (${service.logPath})`);
      }
    }
    // The services did log: an empty log would pass the check above for the wrong reason.
    expect(logged).toBeGreaterThan(1_000);

    // Every service process of this e2e run so far (all specs' stacks write to the same directory)
    // shares the test JWT secret: none of them may have logged it either.
    const logDir = dirname(running.ingest.logPath);
    for (const file of readdirSync(logDir).filter((name) => name.endsWith('.log'))) {
      const log = readFileSync(join(logDir, file), 'utf8');
      if (log.includes(TEST_JWT_SECRET)) throw new Error(`${file} contains the JWT secret`);
    }
  });
});
