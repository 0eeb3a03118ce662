/**
 * The gateway against the real broker and PostgreSQL: a Nest app with DeliveryModule on an
 * ephemeral port, real socket.io-client sockets, sequenced messages committed to seqcast_messages
 * and then published to a fresh events topic, exactly as the ordering worker does.
 */
import { signToken } from '@seqcast/auth';
import type { Message, MessagesEvent, UnsubscribeAck } from '@seqcast/contracts';
import { waitFor } from '@seqcast/testing';
import { type ClientSocket, connectError, GatewayHarness, room } from '../testing';

let gw: GatewayHarness;
let epoch: string;

beforeAll(async () => {
  gw = await GatewayHarness.start({ subscriptions: { historyPageSize: 4 } });
  epoch = gw.epoch;
});

afterAll(async () => {
  await gw?.stop();
});

const sequence = (roomId: string, count: number) => gw.sequence(roomId, count);
const commit = (messages: Parameters<GatewayHarness['commit']>[0]) => gw.commit(messages);
const publish = (messages: Parameters<GatewayHarness['publish']>[0]) => gw.publish(messages);
const commitAndPublish = (roomId: string, count: number) => gw.commitAndPublish(roomId, count);
const connect = (auth: Record<string, unknown> | undefined) => gw.connect(auth);
const client = (rooms: string[]) => gw.client(rooms);
const subscribe = (socket: ClientSocket, request: unknown) => gw.subscribe(socket, request);

function unsubscribe(socket: ClientSocket, roomId: string): Promise<UnsubscribeAck> {
  return socket.timeout(10_000).emitWithAck('unsubscribe', { roomId });
}

function expectChainedFrom(received: MessagesEvent[], roomId: string, after: number | null): void {
  let last = after;
  for (const event of received.filter((e) => e.roomId === roomId)) {
    expect(event.messages.length).toBeGreaterThan(0);
    for (const m of event.messages) {
      expect(m.prevSeq).toBe(last);
      last = m.seq;
    }
  }
}

describe('handshake', () => {
  it.each([
    ['no token', undefined],
    ['a garbage token', { token: 'nope' }],
    ['a token signed with another secret', { token: signToken({ sub: 'x', rooms: ['*'] }, 'another-secret') }],
  ])('refuses %s with connect_error "unauthorized"', async (_case, auth) => {
    await expect(connectError(connect(auth))).resolves.toBe('unauthorized');
  });
});

describe('subscribe', () => {
  it('answers forbidden for a room the token does not grant, invalid_request for bad payloads', async () => {
    const { socket } = await client(['team-*']);
    await expect(subscribe(socket, { roomId: 'secret-room' })).resolves.toEqual({
      ok: false,
      error: { code: 'forbidden', message: expect.stringContaining('secret-room') },
    });
    await expect(subscribe(socket, 'team-1')).resolves.toMatchObject({ ok: false, error: { code: 'invalid_request' } });
    await expect(subscribe(socket, { roomId: 'team 1' })).resolves.toMatchObject({
      ok: false,
      error: { code: 'invalid_request', message: expect.stringContaining('roomId') },
    });
    // Without an ack callback nothing comes back, and the connection stays usable.
    (socket as unknown as { emit(event: string, payload: unknown): void }).emit('subscribe', { roomId: 'team-1' });
    await expect(subscribe(socket, { roomId: 'team-x' })).resolves.toMatchObject({ ok: true, roomId: 'team-x' });
    expect(socket.connected).toBe(true);
  });

  it('acks the epoch and the head of the room from PostgreSQL', async () => {
    const roomId = room('team-head');
    const history = sequence(roomId, 3);
    await commit(history);
    const { socket } = await client(['team-*']);
    await expect(subscribe(socket, { roomId })).resolves.toEqual({ ok: true, roomId, epoch, headSeq: history[2].seq });

    const empty = room('team-empty');
    await expect(subscribe(socket, { roomId: empty })).resolves.toEqual({
      ok: true,
      roomId: empty,
      epoch,
      headSeq: -1,
    });
  });
});

describe('live delivery', () => {
  it('delivers new messages in order, chained onto the acked head, republished copies once', async () => {
    const roomId = room('team-live');
    const before = sequence(roomId, 2);
    await commit(before);
    const alice = await client(['team-*']);
    const ack = await subscribe(alice.socket, { roomId });
    expect(ack).toMatchObject({ ok: true, headSeq: before[1].seq });

    const sent: Message[] = [];
    for (let i = 0; i < 5; i++) sent.push(...(await commitAndPublish(roomId, 4)));
    // A worker restart republishes what it already published, then carries on.
    await publish(sent.slice(8));
    sent.push(...(await commitAndPublish(roomId, 3)));

    const expected = sent.map((m) => m.seq);
    await waitFor(() => alice.seqs(roomId).length >= expected.length, { what: 'all live messages' });
    expect(alice.seqs(roomId)).toEqual(expected);
    expectChainedFrom(alice.received, roomId, before[1].seq);
    expect(alice.received.find((e) => e.roomId === roomId)?.messages[0]).toEqual(sent[0]);
  });

  it('delivers everything to both subscribers of a room, and stops after unsubscribe', async () => {
    const roomId = room('team-two');
    const alice = await client(['team-*']);
    const bob = await client([roomId]);
    await subscribe(alice.socket, { roomId });
    await subscribe(bob.socket, { roomId });

    const first = await commitAndPublish(roomId, 6);
    const firstSeqs = first.map((m) => m.seq);
    await waitFor(() => alice.seqs(roomId).length >= 6 && bob.seqs(roomId).length >= 6, { what: 'both subscribers' });
    expect(alice.seqs(roomId)).toEqual(firstSeqs);
    expect(bob.seqs(roomId)).toEqual(firstSeqs);
    expectChainedFrom(bob.received, roomId, null);

    await expect(unsubscribe(alice.socket, roomId)).resolves.toEqual({ ok: true, roomId });
    const second = await commitAndPublish(roomId, 3);
    await waitFor(() => bob.seqs(roomId).length >= 9, { what: 'bob to get the messages after alice left' });
    expect(bob.seqs(roomId)).toEqual([...firstSeqs, ...second.map((m) => m.seq)]);
    // Socket.IO keeps order per connection: a round trip on alice's socket now would arrive after
    // any messages the gateway had sent her in the same fan-out as bob's.
    await expect(unsubscribe(alice.socket, 'team-nothing')).resolves.toMatchObject({ ok: true });
    expect(alice.seqs(roomId)).toEqual(firstSeqs);
  });

  it('keeps rooms apart', async () => {
    const a = room('team-a');
    const b = room('team-b');
    const alice = await client(['team-*']);
    await subscribe(alice.socket, { roomId: a });
    await commitAndPublish(b, 2);
    const inA = await commitAndPublish(a, 2);
    await waitFor(() => alice.seqs(a).length >= 2, { what: 'room a' });
    expect(alice.seqs(a)).toEqual(inA.map((m) => m.seq));
    expect(alice.received.some((e) => e.roomId === b)).toBe(false);
  });
});

describe('afterSeq replay', () => {
  it('replays history after afterSeq in order, then continues live without gaps or repeats', async () => {
    const roomId = room('team-replay');
    const history = sequence(roomId, 10);
    await commit(history);
    const alice = await client(['team-*']);
    const ack = await subscribe(alice.socket, { roomId, afterSeq: history[2].seq, epoch });
    expect(ack).toEqual({ ok: true, roomId, epoch, headSeq: history[9].seq });

    const live = await commitAndPublish(roomId, 5);
    const expected = [...history.slice(3), ...live].map((m) => m.seq);
    await waitFor(() => alice.seqs(roomId).length >= expected.length, { what: 'replay and live messages' });
    expect(alice.seqs(roomId)).toEqual(expected);
    expectChainedFrom(alice.received, roomId, history[2].seq);
  });

  it('resets a client whose epoch is stale to the whole history', async () => {
    const roomId = room('team-reset');
    const history = sequence(roomId, 3);
    await commit(history);
    const alice = await client(['team-*']);
    await expect(subscribe(alice.socket, { roomId, afterSeq: 1, epoch: 'e-stale' })).resolves.toMatchObject({
      ok: true,
      reset: true,
    });
    await waitFor(() => alice.seqs(roomId).length >= 3, { what: 'the reset replay' });
    expect(alice.seqs(roomId)).toEqual(history.map((m) => m.seq));
  });

  it('repairs from PostgreSQL a message the events topic never carried', async () => {
    const roomId = room('team-gap');
    const alice = await client(['team-*']);
    await subscribe(alice.socket, { roomId });
    const lost = sequence(roomId, 2);
    await commit(lost); // committed, but the publish "failed"
    const next = await commitAndPublish(roomId, 2);
    const expected = [...lost, ...next].map((m) => m.seq);
    await waitFor(() => alice.seqs(roomId).length >= 4, { what: 'the repaired stream' });
    expect(alice.seqs(roomId)).toEqual(expected);
    expectChainedFrom(alice.received, roomId, null);
  });
});
