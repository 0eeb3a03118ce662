import type { Message } from '@seqcast/contracts/wire';
import { classifyArrival, countFutileHeal, NO_FUTILE_HEALS } from './room-cursor';

function msg(epoch: string, seq: number, prevSeq: number | null): Message {
  return { epoch, seq, prevSeq } as Message;
}

describe('classifyArrival', () => {
  const cursor = { epoch: 'e1', seq: 10 };

  it('drops what the cursor already covers', () => {
    expect(classifyArrival(cursor, msg('e1', 10, 8), false)).toBe('delivered-already');
    expect(classifyArrival(cursor, msg('e1', 3, 1), true)).toBe('delivered-already');
  });

  it('delivers a message that names the cursor as its predecessor', () => {
    expect(classifyArrival(cursor, msg('e1', 14, 10), false)).toBe('chains');
    expect(classifyArrival({ epoch: 'e1', seq: -1 }, msg('e1', 0, null), false)).toBe('chains');
  });

  it('reports a gap when the predecessor is missing or the epoch differs', () => {
    expect(classifyArrival(cursor, msg('e1', 14, 12), false)).toBe('gap');
    expect(classifyArrival(cursor, msg('e2', 14, 10), false)).toBe('gap');
  });

  it('accepts any first message of the epoch after a reset or truncation', () => {
    expect(classifyArrival(cursor, msg('e1', 14, 12), true)).toBe('chains');
    expect(classifyArrival(cursor, msg('e2', 14, 12), true)).toBe('gap');
  });
});

describe('countFutileHeal', () => {
  it('counts heals that end at the same cursor and restarts when the cursor moved', () => {
    const once = countFutileHeal(NO_FUTILE_HEALS, 5);
    expect(once).toEqual({ seq: 5, count: 1 });
    expect(countFutileHeal(once, 5)).toEqual({ seq: 5, count: 2 });
    expect(countFutileHeal(once, 6)).toEqual({ seq: 6, count: 1 });
  });
});
