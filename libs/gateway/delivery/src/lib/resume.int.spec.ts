/**
 * Resume at scale against the real broker and PostgreSQL: a reconnect storm (many sockets
 * resuming one room at once) costs one database read, later waves replay from the room cache,
 * and a resume into pruned history is acked `truncated` with where delivery resumes.
 */
import { waitFor } from '@seqcast/testing';
import { GatewayHarness, metricValue, room, type TestClient } from '../testing';

const STORM = 25;

let gw: GatewayHarness;

beforeAll(async () => {
  gw = await GatewayHarness.start();
});

afterAll(async () => {
  await gw?.stop();
});

function reads() {
  return gw.subscriptions.details.history.reads;
}

describe('reconnect storms', () => {
  it('serves N concurrent resumes of a room with one database read, later waves from the cache', async () => {
    const roomId = room('team-storm');
    const history = gw.sequence(roomId, 40);
    await gw.commit(history);
    const clients: TestClient[] = [];
    for (let i = 0; i < STORM; i++) clients.push(await gw.client(['team-*'], { autoAck: true, sub: `user-${i}` }));
    const afterSeq = history[9].seq;
    const before = reads();
    const resumesBefore = await metricValue('seqcast_gateway_resumes_total');

    const started = Date.now();
    const acks = await Promise.all(clients.map((c) => gw.subscribe(c.socket, { roomId, afterSeq, epoch: gw.epoch })));
    const expected = history.slice(10).map((m) => m.seq);
    await waitFor(() => clients.every((c) => c.seqs(roomId).length >= expected.length), { what: 'every replay' });
    const stormMs = Date.now() - started;
    for (const [i, c] of clients.entries()) {
      expect(acks[i]).toEqual({ ok: true, roomId, epoch: gw.epoch, headSeq: history[39].seq });
      expect(c.seqs(roomId)).toEqual(expected);
    }
    const storm = reads();
    expect(storm.head - before.head).toBe(1);
    expect(storm.page - before.page).toBe(1);
    expect(await metricValue('seqcast_gateway_resumes_total')).toBe(resumesBefore + STORM);

    // Live traffic, then a second wave resuming from further back in what the cache holds.
    const live = await gw.commitAndPublish(roomId, 5);
    await waitFor(() => clients.every((c) => c.seqs(roomId).length >= expected.length + 5), { what: 'live' });
    const wave: TestClient[] = [];
    for (let i = 0; i < STORM; i++) wave.push(await gw.client(['team-*'], { autoAck: true }));
    const afterWave = history[19].seq;
    await Promise.all(wave.map((c) => gw.subscribe(c.socket, { roomId, afterSeq: afterWave, epoch: gw.epoch })));
    const waveExpected = [...history.slice(20), ...live].map((m) => m.seq);
    await waitFor(() => wave.every((c) => c.seqs(roomId).length >= waveExpected.length), { what: 'the second wave' });
    for (const c of wave) expect(c.seqs(roomId)).toEqual(waveExpected);
    expect(reads().head).toBe(storm.head);
    expect(reads().page).toBe(storm.page);
    console.log(
      `reconnect storm: ${STORM} concurrent resumes of ${expected.length} messages each in ${stormMs} ms with ` +
        `1 head + 1 page read; a second wave of ${STORM} (${waveExpected.length} messages each) with 0 reads`,
    );
    for (const c of [...clients, ...wave]) c.socket.disconnect();
  });

  it('shares the reads of concurrent fresh subscribes (no afterSeq) too', async () => {
    const roomId = room('team-fresh');
    const history = gw.sequence(roomId, 3);
    await gw.commit(history);
    const clients: TestClient[] = [];
    for (let i = 0; i < 10; i++) clients.push(await gw.client(['team-*']));
    const before = reads();
    const acks = await Promise.all(clients.map((c) => gw.subscribe(c.socket, { roomId })));
    for (const ack of acks) expect(ack).toMatchObject({ ok: true, headSeq: history[2].seq });
    expect(reads().head - before.head).toBe(1);
    expect(reads().page - before.page).toBe(0);
    const live = await gw.commitAndPublish(roomId, 2);
    await waitFor(() => clients.every((c) => c.seqs(roomId).length >= 2), { what: 'live' });
    for (const c of clients) expect(c.seqs(roomId)).toEqual(live.map((m) => m.seq));
    for (const c of clients) c.socket.disconnect();
  });
});

describe('retention', () => {
  it('acks truncated and where delivery resumes when the history after afterSeq was pruned', async () => {
    const roomId = room('team-pruned');
    const history = gw.sequence(roomId, 10);
    await gw.commit(history);
    // What the worker's retention does: the oldest rows go, the chain of the rest is untouched.
    await gw.dataSource.query(`DELETE FROM seqcast_messages WHERE room_id = $1 AND seq <= $2`, [
      roomId,
      history[5].seq,
    ]);
    const alice = await gw.client(['team-*']);
    await expect(gw.subscribe(alice.socket, { roomId, afterSeq: history[1].seq, epoch: gw.epoch })).resolves.toEqual({
      ok: true,
      roomId,
      epoch: gw.epoch,
      headSeq: history[9].seq,
      truncated: true,
      resumeAfterSeq: history[5].seq,
    });
    await waitFor(() => alice.seqs(roomId).length >= 4, { what: 'the retained history' });
    expect(alice.seqs(roomId)).toEqual(history.slice(6).map((m) => m.seq));
    expect(alice.received[0].messages[0].prevSeq).toBe(history[5].seq);

    // A client whose cursor is inside what is retained is not truncated.
    const bob = await gw.client(['team-*']);
    const ack = await gw.subscribe(bob.socket, { roomId, afterSeq: history[7].seq, epoch: gw.epoch });
    expect(ack).toEqual({ ok: true, roomId, epoch: gw.epoch, headSeq: history[9].seq });
    await waitFor(() => bob.seqs(roomId).length >= 2, { what: 'the intact replay' });
    expect(bob.seqs(roomId)).toEqual(history.slice(8).map((m) => m.seq));
  });
});
