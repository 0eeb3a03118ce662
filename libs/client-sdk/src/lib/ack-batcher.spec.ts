import { AckBatcher, type AckTarget, seqToAck } from './ack-batcher';

describe('seqToAck', () => {
  it('names the cursor once it moved past what was acknowledged', () => {
    expect(seqToAck({ roomId: 'r', cursor: { seq: 7 }, lastAckedSeq: 3 })).toBe(7);
  });

  it('has nothing to acknowledge without a cursor, before the first message, or twice', () => {
    expect(seqToAck({ roomId: 'r', cursor: undefined, lastAckedSeq: -1 })).toBeUndefined();
    expect(seqToAck({ roomId: 'r', cursor: { seq: -1 }, lastAckedSeq: -1 })).toBeUndefined();
    expect(seqToAck({ roomId: 'r', cursor: { seq: 7 }, lastAckedSeq: 7 })).toBeUndefined();
  });
});

describe('AckBatcher', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  function setup(connected = true) {
    const rooms = new Map<string, AckTarget>([
      ['a', { roomId: 'a', cursor: { seq: 1 }, lastAckedSeq: -1 }],
      ['b', { roomId: 'b', cursor: { seq: 5 }, lastAckedSeq: -1 }],
    ]);
    const sent: Array<[string, number]> = [];
    const batcher = new AckBatcher({
      delayMs: 100,
      lookup: (roomId) => rooms.get(roomId),
      send: (roomId, seq) => connected && sent.push([roomId, seq]) > 0,
    });
    return { rooms, sent, batcher };
  }

  it('sends one cumulative ack per room per delay', () => {
    const { rooms, sent, batcher } = setup();
    batcher.schedule('a');
    (rooms.get('a') as AckTarget).cursor = { seq: 2 };
    batcher.schedule('a');
    batcher.schedule('b');
    jest.advanceTimersByTime(99);
    expect(sent).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(sent).toEqual([
      ['a', 2],
      ['b', 5],
    ]);
  });

  it('does not count an ack that could not be sent as acknowledged', () => {
    const { rooms, batcher } = setup(false);
    batcher.schedule('a');
    jest.advanceTimersByTime(100);
    expect(rooms.get('a')?.lastAckedSeq).toBe(-1);
  });

  it('sends a room pending ack before it is unsubscribed, and none for a forgotten room', () => {
    const { rooms, sent, batcher } = setup();
    batcher.schedule('a');
    batcher.schedule('b');
    batcher.flushRoom(rooms.get('a') as AckTarget);
    batcher.forget('b');
    jest.advanceTimersByTime(100);
    expect(sent).toEqual([['a', 1]]);
  });

  it('close flushes what is due and leaves no timer behind', () => {
    const { sent, batcher } = setup();
    batcher.schedule('b');
    batcher.close();
    expect(sent).toEqual([['b', 5]]);
    expect(jest.getTimerCount()).toBe(0);
  });
});
