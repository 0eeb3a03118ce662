import { createServer } from 'node:net';
import { TopicMismatchError } from '@seqcast/kafka';
import { isConfigurationError } from './platform-resources';
import { serveStartupProbes } from './startup-probes';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe('serveStartupProbes', () => {
  it('answers alive, not ready with the reason, and 503 + Retry-After elsewhere; then frees the port', async () => {
    const port = await freePort();
    const probes = await serveStartupProbes({ host: '127.0.0.1', port });
    const base = `http://127.0.0.1:${port}`;
    probes.waitingFor('waiting for Kafka topics: Connection error');

    const health = await fetch(`${base}/healthz`);
    expect([health.status, await health.json()]).toEqual([200, { status: 'ok' }]);
    const ready = await fetch(`${base}/readyz`);
    expect([ready.status, await ready.json()]).toEqual([
      503,
      { status: 'not_ready', checks: { startup: 'error: starting: waiting for Kafka topics: Connection error' } },
    ]);
    const api = await fetch(`${base}/v1/messages`, {
      method: 'POST',
      body: '{}',
      headers: { 'x-request-id': 'req-1' },
    });
    expect(api.status).toBe(503);
    expect(api.headers.get('retry-after')).toBe('1');
    expect(api.headers.get('x-request-id')).toBe('req-1');
    expect(await api.json()).toEqual({ error: { code: 'unavailable', message: expect.stringMatching(/starting/) } });

    await probes.close();
    const next = createServer();
    await new Promise<void>((resolve, reject) => next.once('error', reject).listen(port, '127.0.0.1', resolve));
    await new Promise((resolve) => next.close(resolve));
  });

  it('answers the same on the management port, and frees both ports', async () => {
    const [port, managementPort] = [await freePort(), await freePort()];
    const probes = await serveStartupProbes({ host: '127.0.0.1', port, managementPort });
    probes.waitingFor('waiting for PostgreSQL');
    const ready = await fetch(`http://127.0.0.1:${managementPort}/readyz`);
    expect([ready.status, await ready.json()]).toEqual([
      503,
      { status: 'not_ready', checks: { startup: 'error: starting: waiting for PostgreSQL' } },
    ]);
    expect((await fetch(`http://127.0.0.1:${managementPort}/healthz`)).status).toBe(200);

    await probes.close();
    for (const taken of [port, managementPort]) {
      const next = createServer();
      await new Promise<void>((resolve, reject) => next.once('error', reject).listen(taken, '127.0.0.1', resolve));
      await new Promise((resolve) => next.close(resolve));
    }
  });
});

describe('isConfigurationError', () => {
  it('gives up only on what waiting cannot fix', () => {
    expect(isConfigurationError(new TopicMismatchError('t', 3, 12))).toBe(true);
    expect(isConfigurationError(new Error('cannot open database x: password authentication failed for user "a"'))).toBe(
      true,
    );
    expect(
      isConfigurationError(new Error('ensuring topics: Kafka is unavailable (Connection error: ECONNREFUSED)')),
    ).toBe(false);
    expect(isConfigurationError(new Error('cannot open database x: the database system is starting up'))).toBe(false);
    expect(isConfigurationError(new Error('database x has pending migrations; start one service with ...'))).toBe(
      false,
    );
  });
});
