import { chainIntact, chainMarks } from './chain';

describe('chainMarks', () => {
  it('marks each message by whether it names its predecessor', () => {
    expect(
      chainMarks([
        { seq: 3, prevSeq: 1 },
        { seq: 7, prevSeq: 3 },
        { seq: 9, prevSeq: 8 },
        { seq: 12, prevSeq: 9 },
      ]),
    ).toEqual(['first', 'ok', 'broken', 'ok']);
  });

  it('flags a message that does not move forward even if prevSeq matches', () => {
    expect(chainMarks([{ seq: 5, prevSeq: 4 }, { seq: 5, prevSeq: 5 }])).toEqual(['first', 'broken']);
  });

  it('an empty or single list is intact; one broken link is not', () => {
    expect(chainIntact([])).toBe(true);
    expect(chainIntact([{ seq: 0, prevSeq: null }])).toBe(true);
    expect(chainIntact([{ seq: 0, prevSeq: null }, { seq: 2, prevSeq: 1 }])).toBe(false);
  });
});
