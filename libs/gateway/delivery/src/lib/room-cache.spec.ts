import { messageBytes } from './message-meta';
import { RoomCache } from './room-cache';
import { chain, EPOCH, message } from '../testing';

const seqs = (page: { messages: { seq: number }[] } | undefined) => page?.messages.map((m) => m.seq);

describe('RoomCache fed by dispatches', () => {
  it('knows nothing until it sees the room', () => {
    const cache = new RoomCache(100);
    expect(cache.known).toBe(false);
    expect(cache.serve(EPOCH, -1, 10)).toBeUndefined();
  });

  it('appends chained events and serves the covered range, caught up at the tail', () => {
    const cache = new RoomCache(100);
    cache.recordDispatch(chain('r', [3, 5], 1));
    cache.recordDispatch([message('r', 8, 5)]);
    expect({ floor: cache.floor, tail: cache.tail, complete: cache.complete }).toEqual({
      floor: 1,
      tail: 8,
      complete: true,
    });
    expect(cache.serve(EPOCH, 1, 10)).toEqual({ messages: chain('r', [3, 5, 8], 1), caughtUp: true });
    expect(cache.serve(EPOCH, 4, 1)).toEqual({ messages: [message('r', 5, 3)], caughtUp: false });
    expect(cache.serve(EPOCH, 8, 10)).toEqual({ messages: [], caughtUp: true });
    // Below the floor the cache cannot tell what exists: PostgreSQL must answer.
    expect(cache.serve(EPOCH, 0, 10)).toBeUndefined();
  });

  it('restarts its range at an event that does not chain (it never saw what came between)', () => {
    const cache = new RoomCache(100);
    cache.recordDispatch(chain('r', [3, 5], 1));
    cache.recordDispatch([message('r', 12, 9)]);
    expect({ floor: cache.floor, tail: cache.tail, size: cache.size }).toEqual({ floor: 9, tail: 12, size: 1 });
    expect(cache.serve(EPOCH, 5, 10)).toBeUndefined();
  });

  it('keeps the newest messages within its per-room limit, raising the floor', () => {
    const cache = new RoomCache(2);
    cache.recordDispatch(chain('r', [0, 1, 2, 3]));
    expect({ floor: cache.floor, tail: cache.tail, size: cache.size }).toEqual({ floor: 1, tail: 3, size: 2 });
    expect(seqs(cache.serve(EPOCH, 1, 10))).toEqual([2, 3]);
    expect(cache.serve(EPOCH, 0, 10)).toBeUndefined();
  });

  it('tracks its bytes through every change', () => {
    let total = 0;
    const cache = new RoomCache(2, (delta) => (total += delta));
    const messages = chain('r', [0, 1, 2]);
    cache.recordDispatch(messages);
    expect(total).toBe(messageBytes(messages[1]) + messageBytes(messages[2]));
    expect(cache.bytes).toBe(total);
    cache.clear();
    expect(total).toBe(0);
  });

  it('with a zero limit still knows the tail (the room head) but holds no message', () => {
    const cache = new RoomCache(0);
    cache.recordDispatch(chain('r', [4, 6], 2));
    expect({ tail: cache.tail, size: cache.size, complete: cache.complete }).toEqual({
      tail: 6,
      size: 0,
      complete: true,
    });
    expect(cache.serve(EPOCH, 6, 10)).toEqual({ messages: [], caughtUp: true });
    expect(cache.serve(EPOCH, 4, 10)).toBeUndefined();
  });

  it('forgets another epoch', () => {
    const cache = new RoomCache(100);
    cache.recordDispatch(chain('r', [3, 5], 1));
    cache.ensureEpoch('epoch-2');
    expect(cache.known).toBe(false);
    expect(cache.serve('epoch-2', 1, 10)).toBeUndefined();
  });
});

describe('RoomCache fed by reads', () => {
  it('a full page covers its range but is not caught up; a short page is', () => {
    const cache = new RoomCache(100);
    cache.recordPage(EPOCH, 1, chain('r', [3, 5], 1), false);
    expect(cache.serve(EPOCH, 1, 10)).toEqual({ messages: chain('r', [3, 5], 1), caughtUp: false });
    expect(cache.serve(EPOCH, 5, 10)).toBeUndefined();

    cache.recordPage(EPOCH, 5, [message('r', 7, 5)], true);
    expect(cache.serve(EPOCH, 1, 10)).toEqual({ messages: chain('r', [3, 5, 7], 1), caughtUp: true });
  });

  it('merges an older page in front of what it holds', () => {
    const cache = new RoomCache(100);
    cache.recordDispatch(chain('r', [7, 9], 5));
    cache.recordPage(EPOCH, -1, chain('r', [1, 5, 7]), false);
    expect(seqs(cache.serve(EPOCH, -1, 10))).toEqual([1, 5, 7, 9]);
    expect(cache.floor).toBe(-1);
    expect(cache.complete).toBe(true);
  });

  it('keeps a range that reaches further than a disjoint page', () => {
    const cache = new RoomCache(100);
    cache.recordDispatch(chain('r', [20, 22], 18));
    cache.recordPage(EPOCH, 1, chain('r', [3, 5], 1), false);
    expect({ floor: cache.floor, tail: cache.tail }).toEqual({ floor: 18, tail: 22 });
  });

  it('an empty short page after the tail confirms it is caught up', () => {
    const cache = new RoomCache(100);
    cache.recordPage(EPOCH, 1, chain('r', [3, 5], 1), false);
    cache.recordPage(EPOCH, 5, [], true);
    expect(cache.serve(EPOCH, 5, 10)).toEqual({ messages: [], caughtUp: true });
  });

  it('a head read positions an empty cache, and completes one whose page ended there', () => {
    const empty = new RoomCache(100);
    empty.recordHead(EPOCH, 9);
    expect(empty.serve(EPOCH, 9, 10)).toEqual({ messages: [], caughtUp: true });
    expect(empty.serve(EPOCH, 8, 10)).toBeUndefined();

    const paged = new RoomCache(100);
    paged.recordPage(EPOCH, 1, chain('r', [3, 5], 1), false);
    paged.recordHead(EPOCH, 5);
    expect(paged.complete).toBe(true);
  });

  it('does not mix a page of another epoch into its messages', () => {
    const cache = new RoomCache(100);
    cache.recordDispatch(chain('r', [3, 5], 1));
    cache.recordPage(EPOCH, 5, [{ ...message('r', 7, 5), epoch: 'other' }], true);
    expect(cache.tail).toBe(5);
  });
});
