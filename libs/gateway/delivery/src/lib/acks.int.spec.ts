/**
 * Acks and redelivery against the real broker and PostgreSQL, with real sockets: a client that
 * never acks gets the same seqs again after the ack timeout (then with backoff) until it acks;
 * invalid acks are ignored and counted, never fatal.
 */
import { waitFor } from '@seqcast/testing';
import { GatewayHarness, metricValue, room } from '../testing';

const ACK_TIMEOUT_MS = 400;

let gw: GatewayHarness;

beforeAll(async () => {
  gw = await GatewayHarness.start({ subscriptions: { delivery: { ackTimeoutMs: ACK_TIMEOUT_MS } } });
});

afterAll(async () => {
  await gw?.stop();
});

describe('acks and redelivery', () => {
  it('re-sends what a client does not ack, from the first unacked seq, backing off, until it acks', async () => {
    const roomId = room('team-redeliver');
    const alice = await gw.client(['team-*']);
    const ack = await gw.subscribe(alice.socket, { roomId });
    if (!ack.ok) throw new Error('subscribe failed');
    const redeliveredBefore = await metricValue('seqcast_gateway_redeliveries_total');

    const sent = await gw.commitAndPublish(roomId, 5);
    const expected = sent.map((m) => m.seq);
    await waitFor(() => alice.seqs(roomId).length >= 5, { what: 'the first delivery' });
    alice.socket.emit('ack', { roomId, seq: sent[1].seq }); // the first two arrived

    await waitFor(() => alice.seqs(roomId).length >= 11, { what: 'two redeliveries', timeoutMs: 5_000 });
    // Arrival times of the original delivery of seq 3 and of its two redeliveries.
    const [firstAt, redeliveredAt, secondAt] = alice.arrivals.filter((a) => a.seq === sent[2].seq).map((a) => a.at);
    const tail = expected.slice(2);
    expect(alice.seqs(roomId)).toEqual([...expected, ...tail, ...tail]);
    // A redelivered event starts right after the last acked seq.
    expect(alice.received[1].messages[0].prevSeq).toBe(sent[1].seq);
    expect(alice.held(roomId)).toEqual(expected);
    // Not before the timeout, then not before twice the timeout (backoff).
    expect(redeliveredAt - firstAt).toBeGreaterThanOrEqual(ACK_TIMEOUT_MS - 50);
    expect(secondAt - redeliveredAt).toBeGreaterThanOrEqual(2 * ACK_TIMEOUT_MS - 50);
    expect(await metricValue('seqcast_gateway_redeliveries_total')).toBe(redeliveredBefore + 6);

    alice.socket.emit('ack', { roomId, seq: sent[4].seq });
    await waitFor(() => gw.subscriptions.details.unackedMessages === 0, { what: 'the ack to release everything' });
    // Nothing is unacked, so no redelivery timer can be pending: the stream is done.
    const after = alice.seqs(roomId).length;
    const more = await gw.commitAndPublish(roomId, 2);
    await waitFor(() => alice.seqs(roomId).length >= after + 2, { what: 'the next live messages' });
    expect(alice.seqs(roomId).slice(after)).toEqual(more.map((m) => m.seq));
    alice.socket.disconnect();
    await waitFor(() => gw.subscriptions.details.sessions === 0, { what: 'alice to be forgotten' });
    console.log(
      `redelivery: ack timeout ${ACK_TIMEOUT_MS} ms; first redelivery after ${redeliveredAt - firstAt} ms, ` +
        `second ${secondAt - redeliveredAt} ms later (backoff)`,
    );
  });

  it('never redelivers to a client that acks what it receives', async () => {
    const roomId = room('team-acking');
    const bob = await gw.client(['team-*'], { autoAck: true });
    await gw.subscribe(bob.socket, { roomId });
    const before = await metricValue('seqcast_gateway_redeliveries_total');
    const sent: number[] = [];
    for (let i = 0; i < 5; i++) sent.push(...(await gw.commitAndPublish(roomId, 10)).map((m) => m.seq));
    await waitFor(() => bob.seqs(roomId).length >= 50, { what: 'all 50 messages' });
    await waitFor(() => gw.subscriptions.details.unackedMessages === 0, { what: 'every delivery acked' });
    expect(bob.seqs(roomId)).toEqual(sent);
    expect(await metricValue('seqcast_gateway_redeliveries_total')).toBe(before);
  });

  it('ignores and counts invalid acks, and the connection carries on', async () => {
    const roomId = room('team-invalid');
    const carol = await gw.client(['team-*']);
    await gw.subscribe(carol.socket, { roomId });
    const [first] = await gw.commitAndPublish(roomId, 1);
    await waitFor(() => carol.seqs(roomId).length >= 1, { what: 'one message' });
    const count = (reason: string) => metricValue('seqcast_gateway_invalid_acks_total', { reason });
    const before = {
      malformed: await count('malformed'),
      notSubscribed: await count('not_subscribed'),
      beyond: await count('beyond_delivered'),
    };

    const raw = carol.socket as unknown as { emit(event: string, payload: unknown): void };
    raw.emit('ack', 'garbage');
    raw.emit('ack', { roomId, seq: -3 });
    raw.emit('ack', { roomId, seq: first.seq, extra: true });
    carol.socket.emit('ack', { roomId: 'team-never-subscribed', seq: 1 });
    carol.socket.emit('ack', { roomId, seq: first.seq + 1_000 });
    await gw.barrier(carol.socket);

    expect(await count('malformed')).toBe(before.malformed + 3);
    expect(await count('not_subscribed')).toBe(before.notSubscribed + 1);
    expect(await count('beyond_delivered')).toBe(before.beyond + 1);
    expect(carol.socket.connected).toBe(true);
    const [next] = await gw.commitAndPublish(roomId, 1);
    await waitFor(() => carol.seqs(roomId).includes(next.seq), { what: 'delivery after invalid acks' });
  });
});
