import { batchSummary } from './batch-committer';

describe('batchSummary', () => {
  const batch = (partition: number) => ({ partition, size: 3, firstOffset: 4, lastOffset: 6 });

  it('is a debug line for a routine batch', () => {
    expect(batchSummary(batch(2), { messages: [1, 2, 3], duplicates: [], deadLetters: [] })).toEqual({
      level: 'debug',
      line: 'partition 2 batch of 3 (offsets 4-6): 3 sequenced, 0 duplicates, 0 dead-lettered',
    });
  });

  it('is logged when duplicates were dropped', () => {
    expect(batchSummary(batch(2), { messages: [1, 2], duplicates: [1], deadLetters: [] }).level).toBe('log');
  });

  it('warns with every dead letter reason', () => {
    expect(
      batchSummary(batch(0), {
        messages: [1],
        duplicates: [],
        deadLetters: [
          { offset: 4, reason: 'invalid_json' },
          { offset: 6, reason: 'wrong_partition' },
        ],
      }),
    ).toEqual({
      level: 'warn',
      line:
        'partition 0 batch of 3 (offsets 4-6): 1 sequenced, 0 duplicates, 2 dead-lettered; ' +
        'reasons: 4: invalid_json; 6: wrong_partition',
    });
  });
});
