/**
 * Handshake admission against a real gateway, broker and database (docs/protocol.md "Busy:
 * server_busy"): with two handshakes in progress the next one is refused at once with
 * connect_error `server_busy` and `{ retryAfterMs }`, before authentication; answering a
 * handshake's first subscribe frees its slot, and the refused client's retry gets in and resumes
 * with nothing missing.
 */
import { waitFor } from '@seqcast/testing';
import type { Socket as ClientSocket } from 'socket.io-client';
import { connected, GatewayHarness, metricValue, room } from '../testing';
import { NO_LIMITS } from './gateway-limits';

const REJECTIONS = 'seqcast_gateway_connect_rejections_total';

/** The connect_error a refused socket gets, with its data. */
function refusal(socket: ClientSocket): Promise<{ message: string; data: unknown }> {
  return new Promise((resolve, reject) => {
    socket.once('connect', () => reject(new Error('connected although it should have been refused')));
    socket.once('connect_error', (error) => resolve({ message: error.message, data: (error as { data?: unknown }).data }));
  });
}

describe('handshake admission (real Kafka and PostgreSQL)', () => {
  let gw: GatewayHarness;

  beforeAll(async () => {
    gw = await GatewayHarness.start({
      limits: {
        ...NO_LIMITS,
        // Connected sockets hold their slots until they subscribe (the test decides when).
        handshakes: { maxInFlight: 2, idleAfterConnectMs: 60_000 },
      },
    });
  });

  afterAll(async () => {
    await gw?.stop();
  });

  it('refuses the handshake past the bound with server_busy and a retry hint; a freed slot admits the retry, which resumes completely', async () => {
    const roomId = room('team-admit');
    const history = gw.sequence(roomId, 20);
    await gw.commit(history);
    const token = gw.token(['team-*']);
    const first = gw.connect({ token });
    const second = gw.connect({ token });
    await Promise.all([connected(first), connected(second)]);
    const refusedBefore = await metricValue(REJECTIONS, { reason: 'server_busy' });

    // Refused before authentication: even a bad token is told server_busy, not unauthorized.
    const busy = await refusal(gw.connect({ token: 'not-a-token' }));
    expect(busy.message).toBe('server_busy');
    const { retryAfterMs } = busy.data as { retryAfterMs: number };
    expect(Number.isInteger(retryAfterMs)).toBe(true);
    expect(retryAfterMs).toBeGreaterThanOrEqual(100);
    expect(retryAfterMs).toBeLessThanOrEqual(30_000);
    const refused = gw.connect({ token });
    await expect(refusal(refused)).resolves.toMatchObject({ message: 'server_busy' });
    await waitFor(() => refused.disconnected && !refused.active, { what: 'the refused socket to be closed' });
    expect(await metricValue(REJECTIONS, { reason: 'server_busy' })).toBe(refusedBefore + 2);

    // The first handshake's resume is answered: its slot goes to the next handshake.
    await expect(gw.subscribe(first, { roomId, afterSeq: history[4].seq, epoch: gw.epoch })).resolves.toMatchObject({ ok: true });
    const retry = gw.connect({ token });
    await connected(retry);
    const received: number[] = [];
    retry.on('messages', (event) => received.push(...event.messages.map((m) => m.seq)));
    await expect(gw.subscribe(retry, { roomId, afterSeq: history[9].seq, epoch: gw.epoch })).resolves.toMatchObject({
      ok: true,
      headSeq: history[19].seq,
    });
    await waitFor(() => received.length >= 10, { what: 'the replay after the admitted retry' });
    expect(received).toEqual(history.slice(10).map((m) => m.seq));

    // Both slots are taken again (second: connected, not subscribed; retry: answered, so free):
    // one more is admitted, then the bound holds.
    const third = gw.connect({ token });
    await connected(third);
    await expect(refusal(gw.connect({ token }))).resolves.toMatchObject({ message: 'server_busy' });
    // A connection that goes away frees its slot as well.
    second.disconnect();
    await waitFor(async () => {
      const probe = gw.connect({ token });
      const outcome = await new Promise<string>((resolve) => {
        probe.once('connect', () => resolve('connected'));
        probe.once('connect_error', (error) => resolve(error.message));
      });
      return outcome === 'connected';
    }, { what: 'a slot freed by the disconnect' });
  });
});
