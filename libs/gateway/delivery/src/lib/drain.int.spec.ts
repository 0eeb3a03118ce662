/**
 * Graceful drain of an in-process gateway against the real broker and PostgreSQL: shutdown turns
 * readiness 503 at once, refuses new connections with `server_draining`, tells every socket
 * `server_restart { reconnectInMs }` within the spread window and disconnects it, waits while a
 * connection remains (here: a bare engine.io connection that never joins) and closes the app as
 * soon as it is gone.
 */
import { waitFor } from '@seqcast/testing';
import { Manager } from 'socket.io-client';
import { connectError, GatewayHarness, metricValue, room, type TestClient } from './gateway-harness.int';

const SPREAD_MS = 2_000;
const DRAIN_TIMEOUT_MS = 20_000;

let gw: GatewayHarness;
let closed = false;

beforeAll(async () => {
  gw = await GatewayHarness.start({ http: true, drain: { spreadMs: SPREAD_MS, timeoutMs: DRAIN_TIMEOUT_MS } });
});

afterAll(async () => {
  await gw?.stop(!closed);
});

async function readyz(): Promise<{ status: number; body: { checks?: Record<string, string> } }> {
  const res = await fetch(`${gw.url}/readyz`);
  return { status: res.status, body: (await res.json()) as { checks?: Record<string, string> } };
}

describe('graceful drain', () => {
  it('turns not-ready, refuses connections, sends server_restart spread over the window, then closes', async () => {
    const roomId = room('team-drain');
    await expect(readyz()).resolves.toMatchObject({ status: 200 });
    const clients: TestClient[] = [];
    for (let i = 0; i < 8; i++) {
      const c = await gw.client(['team-*'], { autoAck: true });
      await gw.subscribe(c.socket, { roomId });
      clients.push(c);
    }
    const sent = await gw.commitAndPublish(roomId, 3);
    await waitFor(() => clients.every((c) => c.seqs(roomId).length >= 3), { what: 'delivery before the drain' });
    // A connection that completed the engine.io handshake but never joined: the drain waits for it.
    const bare = new Manager(gw.url, { transports: ['websocket'], reconnection: false, autoConnect: false });
    await new Promise<void>((resolve, reject) => bare.open((error) => (error ? reject(error) : resolve())));
    const restartsBefore = await metricValue('seqcast_gateway_disconnects_total', { reason: 'server_restart' });

    const started = Date.now();
    const closing = gw.app.close();
    let closedAt = 0;
    void closing.then(() => (closedAt = Date.now()));

    await waitFor(() => clients.every((c) => c.disconnectReason !== undefined), { what: 'every client to be let go' });
    for (const c of clients) {
      expect(c.serverRestart).toHaveLength(1);
      expect(c.serverRestart[0].reconnectInMs).toBeGreaterThanOrEqual(0);
      expect(c.serverRestart[0].reconnectInMs).toBeLessThan(SPREAD_MS);
      expect(c.disconnectReason).toBe('io server disconnect');
      expect(c.seqs(roomId)).toEqual(sent.map((m) => m.seq));
    }
    expect(await metricValue('seqcast_gateway_disconnects_total', { reason: 'server_restart' })).toBe(
      restartsBefore + clients.length,
    );

    // Still draining (the bare connection is open): not ready, and no new sockets.
    const probe = await readyz();
    expect(probe.status).toBe(503);
    expect(probe.body.checks?.['draining']).toMatch(/^error: draining/);
    await expect(connectError(gw.connect({ token: gw.token(['team-*']) }))).resolves.toBe('server_draining');
    expect(closedAt).toBe(0);
    expect(await metricValue('seqcast_gateway_draining')).toBe(1);

    bare.engine?.close();
    await closing;
    closed = true;
    const drainMs = closedAt - started;
    expect(drainMs).toBeLessThan(DRAIN_TIMEOUT_MS);
    const delays = clients.map((c) => c.serverRestart[0].reconnectInMs).sort((a, b) => a - b);
    console.log(
      `drain: ${clients.length} sockets told to reconnect in ${delays.join('/')} ms (window ${SPREAD_MS} ms); ` +
        `app closed ${drainMs} ms after shutdown began, as soon as the last connection left`,
    );
  });
});
