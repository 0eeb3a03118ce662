/** subscribe(room, fn, { last: N }): the latest N then live, only when the room has no cursor. */
import type { Message } from '@seqcast/contracts/wire';
import { chain, FakeGateway } from '../testing';
import { type CursorStore, MemoryCursorStore } from './cursor-store';
import { SeqcastClient } from './seqcast-client';

const ROOM = 'team-42:general';
const settle = () => jest.advanceTimersByTimeAsync(0);

async function subscribedLast(last: number, store: CursorStore = new MemoryCursorStore(), headSeq = 20) {
  const gateway = new FakeGateway();
  const client = new SeqcastClient(
    {
      gatewayUrl: 'http://gateway.test',
      ingestUrl: 'http://ingest.test',
      token: 'tok',
      cursorStore: store,
      random: () => 0.5,
      reconnect: { baseDelayMs: 10, maxDelayMs: 10 },
    },
    { transportFactory: gateway.factory },
  );
  const received: Message[] = [];
  client.connect();
  await settle();
  gateway.last.accept();
  const done = client.subscribe(ROOM, (m) => received.push(m), { last });
  await settle();
  gateway.last.answer({ headSeq });
  await done;
  return { gateway, client, store, seqs: () => received.map((m) => m.seq) };
}

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

describe('SeqcastClient.subscribe with last', () => {
  it('asks for the latest N without a cursor and delivers the replay, then live, each once', async () => {
    const { gateway, store, seqs } = await subscribedLast(3);
    expect(gateway.last.subscribes[0].request).toEqual({ roomId: ROOM, last: 3 });
    // The replay is at or below headSeq and its first message chains onto a seq we never held.
    gateway.last.send(ROOM, chain(ROOM, [11, 15, 20], 9));
    gateway.last.send(ROOM, chain(ROOM, [20, 23], 15)); // an overlapping live copy, then new
    expect(seqs()).toEqual([11, 15, 20, 23]);
    expect(store.get(ROOM)).toEqual({ epoch: 'e1', seq: 23 });
  });

  it('lets a stored cursor win: the room resumes exactly, without last', async () => {
    const store = new MemoryCursorStore();
    store.set(ROOM, { epoch: 'e1', seq: 41 });
    const { gateway, seqs } = await subscribedLast(50, store, 43);
    expect(gateway.last.subscribes[0].request).toEqual({ roomId: ROOM, afterSeq: 41, epoch: 'e1' });
    gateway.last.send(ROOM, chain(ROOM, [42, 43], 41));
    expect(seqs()).toEqual([42, 43]);
  });

  it('resumes from the last delivered message after a reconnect', async () => {
    const { gateway, seqs } = await subscribedLast(3);
    gateway.last.send(ROOM, chain(ROOM, [11, 15], 9));
    gateway.last.drop();
    await jest.advanceTimersByTimeAsync(10);
    gateway.last.accept();
    await settle();
    expect(gateway.last.subscribes[0].request).toEqual({ roomId: ROOM, afterSeq: 15, epoch: 'e1' });
    gateway.last.answer({ headSeq: 20 });
    gateway.last.send(ROOM, chain(ROOM, [20], 15));
    expect(seqs()).toEqual([11, 15, 20]);
  });

  it('asks for the latest N again when the connection dropped before any message arrived', async () => {
    const { gateway, store } = await subscribedLast(3, new MemoryCursorStore(), -1);
    gateway.last.drop();
    await jest.advanceTimersByTimeAsync(10);
    gateway.last.accept();
    await settle();
    expect(gateway.last.subscribes[0].request).toEqual({ roomId: ROOM, last: 3 });
    expect(store.get(ROOM)).toBeUndefined();
  });
});
