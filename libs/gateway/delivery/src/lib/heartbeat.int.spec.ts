/**
 * Zombies against the real broker and PostgreSQL: a client frozen behind a loopback TCP proxy
 * (nothing forwarded either way, like a SIGSTOPped process or a dead network path) is detected
 * by the heartbeat within ping interval + ping timeout, and every resource the gateway held for
 * it (session, subscriptions, unacked window, redelivery timer) is freed. A live client with the
 * same heartbeat stays connected.
 */
import { waitFor } from '@seqcast/testing';
import { GatewayHarness, metricValue, room, TcpProxy } from '../testing';

const PING_INTERVAL_MS = 300;
const PING_TIMEOUT_MS = 300;
/** Event-loop and scheduling slack on a shared CI machine. */
const SLACK_MS = 1_000;

let gw: GatewayHarness;
let proxy: TcpProxy;

beforeAll(async () => {
  gw = await GatewayHarness.start({ pingIntervalMs: PING_INTERVAL_MS, pingTimeoutMs: PING_TIMEOUT_MS });
  proxy = await TcpProxy.start(gw.port);
});

afterAll(async () => {
  await proxy?.close();
  await gw?.stop();
});

describe('heartbeats', () => {
  it('frees a frozen peer within ping interval + timeout, and keeps a live one', async () => {
    const roomId = room('team-zombie');
    const live = await gw.client(['team-*'], { autoAck: true });
    const zombie = await gw.client(['team-*'], { url: proxy.url });
    await gw.subscribe(live.socket, { roomId });
    await gw.subscribe(zombie.socket, { roomId });
    const sent = await gw.commitAndPublish(roomId, 3);
    await waitFor(() => zombie.seqs(roomId).length >= 3 && live.seqs(roomId).length >= 3, { what: 'delivery' });
    // The zombie never acks: it holds a window and an armed redelivery timer on the gateway.
    expect(gw.subscriptions.details).toMatchObject({ sessions: 2, subscriptions: 2, unackedMessages: 3 });
    const timeoutsBefore = await metricValue('seqcast_gateway_disconnects_total', { reason: 'ping_timeout' });
    const connectionsBefore = await metricValue('seqcast_gateway_active_connections');

    proxy.freeze();
    const frozenAt = Date.now();
    await waitFor(() => gw.subscriptions.details.sessions === 1, {
      what: 'the frozen peer to be dropped',
      timeoutMs: PING_INTERVAL_MS + PING_TIMEOUT_MS + SLACK_MS,
      intervalMs: 10,
    });
    const detectedMs = Date.now() - frozenAt;

    expect(gw.subscriptions.details).toMatchObject({ sessions: 1, subscriptions: 1, unackedMessages: 0 });
    expect(await metricValue('seqcast_gateway_disconnects_total', { reason: 'ping_timeout' })).toBe(timeoutsBefore + 1);
    expect(await metricValue('seqcast_gateway_active_connections')).toBe(connectionsBefore - 1);
    expect(live.socket.connected).toBe(true);
    const more = await gw.commitAndPublish(roomId, 2);
    await waitFor(() => live.seqs(roomId).length >= 5, { what: 'the live client to carry on' });
    expect(live.seqs(roomId)).toEqual([...sent, ...more].map((m) => m.seq));
    console.log(
      `heartbeat: frozen peer freed ${detectedMs} ms after the freeze ` +
        `(ping interval ${PING_INTERVAL_MS} ms + timeout ${PING_TIMEOUT_MS} ms)`,
    );
  });
});
