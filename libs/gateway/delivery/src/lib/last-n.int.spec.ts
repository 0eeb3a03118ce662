/**
 * "The latest N, then live" (subscribe `last`) against the real broker and PostgreSQL, with
 * messages committed and published while the subscribes are in flight: every client gets a
 * gap-free, duplicate-free suffix of the room that starts at most N before the head it was acked.
 */
import type { Message } from '@seqcast/contracts';
import { waitFor } from '@seqcast/testing';
import { GatewayHarness, room, type TestClient } from '../testing';

const LAST = 50;
const CLIENTS = 5;

let gw: GatewayHarness;

beforeAll(async () => {
  gw = await GatewayHarness.start();
});

afterAll(async () => {
  await gw?.stop();
});

describe('subscribe last N then live', () => {
  it('replays the latest N and goes live without a gap or a duplicate while messages keep arriving', async () => {
    const roomId = room('team-last');
    const all: Message[] = gw.sequence(roomId, 120);
    await gw.commit(all);
    const clients: TestClient[] = [];
    for (let i = 0; i < CLIENTS; i++) clients.push(await gw.client(['team-*'], { autoAck: true, sub: `user-${i}` }));

    // A writer committing then publishing (the ordering worker's order) throughout the subscribes.
    let writing = true;
    const writer = (async () => {
      while (writing) all.push(...(await gw.commitAndPublish(roomId, 1)));
    })();
    const storedBefore = all.length;
    const acks = await Promise.all(clients.map((c) => gw.subscribe(c.socket, { roomId, last: LAST })));
    // Let the writer run past the seam, then stop it.
    const acked = all.length;
    await waitFor(() => all.length >= acked + 10, { what: 'writes after the subscribes' });
    writing = false;
    await writer;

    const seqs = all.map((m) => m.seq);
    const lastSeq = seqs[seqs.length - 1];
    await waitFor(() => clients.every((c) => c.seqs(roomId).at(-1) === lastSeq), { what: 'every client live' });
    for (const [i, c] of clients.entries()) {
      const ack = acks[i];
      if (!ack.ok) throw new Error(`subscribe failed: ${JSON.stringify(ack)}`);
      expect(ack).not.toHaveProperty('truncated');
      const got = c.seqs(roomId);
      const start = seqs.indexOf(got[0]);
      // A contiguous suffix of the room: no gap and no duplicate anywhere, the seam included.
      expect(got).toEqual(seqs.slice(start));
      // The latest N when the subscribe resolved them: not older than N before what was stored at
      // the start, and at least N up to the acked head.
      expect(start).toBeGreaterThanOrEqual(storedBefore - LAST);
      expect(got.filter((s) => s <= ack.headSeq).length).toBeGreaterThanOrEqual(LAST);
    }
    for (const c of clients) c.socket.disconnect();
  });

  it('replays what there is in a room holding fewer than N', async () => {
    const roomId = room('team-short');
    const history = gw.sequence(roomId, 3);
    await gw.commit(history);
    const client = await gw.client(['team-*'], { autoAck: true });
    await expect(gw.subscribe(client.socket, { roomId, last: 1000 })).resolves.toMatchObject({
      ok: true,
      headSeq: history[2].seq,
    });
    await waitFor(() => client.seqs(roomId).length === 3, { what: 'the replay' });
    const live = await gw.commitAndPublish(roomId, 2);
    await waitFor(() => client.seqs(roomId).length === 5, { what: 'live' });
    expect(client.seqs(roomId)).toEqual([...history, ...live].map((m) => m.seq));
    client.socket.disconnect();
  });

  it.each([
    [{ last: 0 }, 'last'],
    [{ last: 1001 }, 'last'],
    [{ last: 2.5 }, 'last'],
    [{ last: 10, afterSeq: 3 }, 'last cannot be combined with afterSeq'],
  ])('refuses %j as invalid_request naming the parameter', async (extra, named) => {
    const client = await gw.client(['team-*']);
    const ack = await gw.subscribe(client.socket, { roomId: room('team-bad'), ...extra });
    expect(ack).toMatchObject({ ok: false, error: { code: 'invalid_request', message: expect.stringContaining(named) } });
    client.socket.disconnect();
  });
});
