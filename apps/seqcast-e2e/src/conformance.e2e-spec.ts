/**
 * Replays every trace of docs/conformance against the built services (real Kafka, fresh database
 * and topics), over a raw WebSocket and plain HTTP, so the traces published for client authors
 * can never drift from what the servers do. CONFORMANCE_LOG=1 prints every frame (how the sample
 * frames of docs/protocol.md were captured).
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { loadTraces, replay } from './support/conformance';
import { e2eToken } from './support/http-publisher';
import { type Stack, startStack } from './support/stack';

const traces = loadTraces(join(__dirname, '..', '..', '..', 'docs', 'conformance'));

describe('docs/conformance traces against a running stack', () => {
  let stack: Stack;
  const run = randomBytes(3).toString('hex');

  beforeAll(async () => {
    // A short ping interval so the heartbeat trace sees a ping; pings elsewhere are answered by the replayer.
    stack = await startStack({ partitions: 2, gatewayEnv: { GATEWAY_PING_INTERVAL_MS: '2000' } });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('finds the traces', () => {
    expect(traces.map((t) => t.name)).toEqual(expect.arrayContaining(['02-subscribe-fresh', '03-subscribe-after-seq']));
  });

  it.each(traces.map((trace) => [trace.name, trace] as const))('%s', async (_name, trace) => {
    await replay(trace, {
      ingestUrl: stack.ingest.url,
      gatewayUrl: stack.gateway.url,
      variables: {
        room: `conformance-${run}-${trace.name}`,
        token: e2eToken('conformance', ['conformance-*']),
      },
      log:
        process.env['CONFORMANCE_LOG'] === '1' ? (line) => process.stdout.write(`${trace.name} ${line}\n`) : undefined,
    });
  });
});
