/**
 * Graceful drain of an in-process gateway against the real broker and PostgreSQL: shutdown turns
 * readiness 503 at once, refuses new connections with `server_draining`, tells every socket
 * `server_restart { reconnectInMs }` within the spread window, keeps serving each socket (live
 * messages, redelivery) until its reconnectInMs has passed and only then disconnects it, waits
 * while a connection remains (here: a bare engine.io connection that never joins) and closes the
 * app as soon as it is gone.
 */
import { fetchReadiness, waitFor } from '@seqcast/testing';
import { Manager } from 'socket.io-client';
import { connectError, GatewayHarness, metricValue, room, type TestClient } from '../testing';

const SPREAD_MS = 2_000;
const DRAIN_TIMEOUT_MS = 20_000;
const GRACE_MS = 1_000;
/** Timers, the 50 ms drain poll and loopback transit, between the two ends' clocks. */
const SLACK_MS = 250;
/**
 * How much earlier than reconnectInMs a disconnect may be seen: the client notes server_restart
 * a little after the server sent it (the disconnect, later, also arrives a little late).
 */
const CLOCK_SLACK_MS = 50;

const readyz = (gw: GatewayHarness) => fetchReadiness(gw.url);

describe('graceful drain', () => {
  let gw: GatewayHarness;
  let closed = false;

  beforeAll(async () => {
    gw = await GatewayHarness.start({
      http: true,
      drain: { spreadMs: SPREAD_MS, timeoutMs: DRAIN_TIMEOUT_MS, graceMs: GRACE_MS },
    });
  });

  afterAll(async () => {
    await gw?.stop(!closed);
  });

  it('serves every socket until its reconnectInMs (spread over the window), then disconnects it; refuses new ones; closes when the last is gone', async () => {
    const roomId = room('team-drain');
    await expect(readyz(gw)).resolves.toMatchObject({ status: 200 });
    const clients: TestClient[] = [];
    for (let i = 0; i < 8; i++) {
      const c = await gw.client(['team-*'], { autoAck: true });
      await gw.subscribe(c.socket, { roomId });
      clients.push(c);
    }
    const before = await gw.commitAndPublish(roomId, 3);
    await waitFor(() => clients.every((c) => c.seqs(roomId).length >= 3), { what: 'delivery before the drain' });
    // A connection that completed the engine.io handshake but never joined: the drain waits for it.
    const bare = new Manager(gw.url, { transports: ['websocket'], reconnection: false, autoConnect: false });
    await new Promise<void>((resolve, reject) => bare.open((error) => (error ? reject(error) : resolve())));
    const restartsBefore = await metricValue('seqcast_gateway_disconnects_total', { reason: 'server_restart' });

    const started = Date.now();
    const closing = gw.app.close();
    let closedAt = 0;
    void closing.then(() => (closedAt = Date.now()));

    // Everybody is told at once...
    await waitFor(() => clients.every((c) => c.serverRestart.length === 1), { what: 'server_restart to every client' });
    const toldWithin = Math.max(...clients.map((c) => c.serverRestartAt[0])) - started;
    expect(toldWithin).toBeLessThan(SLACK_MS);
    // ...and delivery goes on: messages published now reach every socket whose turn has not come.
    const during = await gw.commitAndPublish(roomId, 3);
    const publishedAt = Date.now();

    await waitFor(() => clients.every((c) => c.disconnectReason !== undefined), {
      timeoutMs: SPREAD_MS + GRACE_MS + 5_000,
      what: 'every client to be let go',
    });
    const sent = [...before, ...during].map((m) => m.seq);
    for (const c of clients) {
      const { reconnectInMs } = c.serverRestart[0];
      expect(reconnectInMs).toBeGreaterThanOrEqual(0);
      expect(reconnectInMs).toBeLessThan(SPREAD_MS);
      expect(c.disconnectReason).toBe('io server disconnect');
      // Connected for reconnectInMs after being told (not a moment less), gone soon after.
      const servedFor = (c.disconnectedAt ?? 0) - c.serverRestartAt[0];
      expect(servedFor).toBeGreaterThanOrEqual(reconnectInMs - CLOCK_SLACK_MS);
      expect(servedFor).toBeLessThan(reconnectInMs + GRACE_MS + SLACK_MS);
      // In order, nothing twice, nothing skipped: a prefix of what was sent.
      expect(c.seqs(roomId)).toEqual(sent.slice(0, c.seqs(roomId).length));
      // Whoever was still connected well after the publish got the messages, live.
      if (c.serverRestartAt[0] + reconnectInMs > publishedAt + 1_000) {
        expect(c.seqs(roomId)).toEqual(sent);
        const arrivals = c.arrivals.filter((a) => during.some((m) => m.seq === a.seq));
        expect(Math.max(...arrivals.map((a) => a.at))).toBeLessThanOrEqual(c.disconnectedAt ?? 0);
      }
    }
    // Spread means spread: the sockets left over the whole window, not in a burst.
    const leftAt = clients.map((c) => (c.disconnectedAt ?? 0) - started).sort((a, b) => a - b);
    expect(leftAt[leftAt.length - 1] - leftAt[0]).toBeGreaterThan(SPREAD_MS / 2);
    const servedLive = clients.filter((c) => c.seqs(roomId).length === sent.length).length;
    expect(servedLive).toBeGreaterThanOrEqual(clients.length / 4);
    expect(await metricValue('seqcast_gateway_disconnects_total', { reason: 'server_restart' })).toBe(
      restartsBefore + clients.length,
    );

    // Still draining (the bare connection is open): not ready, and no new sockets.
    const probe = await readyz(gw);
    expect(probe.status).toBe(503);
    expect(probe.body.checks['draining']).toMatch(/^error: draining/);
    await expect(connectError(gw.connect({ token: gw.token(['team-*']) }))).resolves.toBe('server_draining');
    expect(closedAt).toBe(0);
    expect(await metricValue('seqcast_gateway_draining')).toBe(1);

    bare.engine?.close();
    await closing;
    closed = true;
    const drainMs = closedAt - started;
    expect(drainMs).toBeLessThan(DRAIN_TIMEOUT_MS);
    console.log(
      `drain: ${clients.length} sockets told within ${toldWithin} ms, served on and let go at ` +
        `${leftAt.join('/')} ms (window ${SPREAD_MS} ms), ${servedLive} of them got the messages published ` +
        `during the drain; app closed ${drainMs} ms after shutdown began, as soon as the last connection left`,
    );
  });
});

describe('graceful drain: a socket waiting for its turn', () => {
  const ACK_TIMEOUT_MS = 200;
  // One socket and random() = 0.99: reconnectInMs = 0.99 × spread, far enough for redeliveries.
  const SPREAD = 1_500;
  let gw: GatewayHarness;
  let closed = false;

  beforeAll(async () => {
    gw = await GatewayHarness.start({
      subscriptions: { delivery: { ackTimeoutMs: ACK_TIMEOUT_MS } },
      drain: { spreadMs: SPREAD, timeoutMs: 10_000, random: () => 0.99 },
    });
  });

  afterAll(async () => {
    await gw?.stop(!closed);
  });

  it('still gets live messages and redeliveries of what it has not acked', async () => {
    const roomId = room('team-drain-turn');
    const c = await gw.client(['team-*']); // never acks
    await gw.subscribe(c.socket, { roomId });
    const closing = gw.app.close();
    await waitFor(() => c.serverRestart.length === 1, { what: 'server_restart' });
    expect(c.serverRestart[0].reconnectInMs).toBe(Math.floor(0.99 * SPREAD));

    const live = await gw.commitAndPublish(roomId, 2);
    const seqs = live.map((m) => m.seq);
    // Delivered, then delivered again (unacked after ACK_TIMEOUT_MS), all on the draining socket.
    await waitFor(() => c.seqs(roomId).length >= 2 * seqs.length, {
      timeoutMs: SPREAD,
      what: 'a redelivery during the drain',
    });
    expect(c.disconnectReason).toBeUndefined();
    expect(c.seqs(roomId).slice(0, 2 * seqs.length)).toEqual([...seqs, ...seqs]);

    await closing;
    closed = true;
    expect(c.disconnectReason).toBe('io server disconnect');
    expect((c.disconnectedAt ?? 0) - c.serverRestartAt[0]).toBeGreaterThanOrEqual(
      c.serverRestart[0].reconnectInMs - CLOCK_SLACK_MS,
    );
    console.log(
      `drain: a socket told to go in ${c.serverRestart[0].reconnectInMs} ms got ${c.seqs(roomId).length} deliveries ` +
        `of ${seqs.length} unacked messages meanwhile, then was disconnected`,
    );
  });
});
