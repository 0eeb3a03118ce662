import type { PartitionClaim } from '@seqcast/ordering-domain';
import { ClaimHeads } from './claim-heads';

function claim(partition: number, generation: number, epoch = 'e1'): PartitionClaim {
  return { epoch, topic: 'seqcast.messages', partition, generation, owner: 'w', nextOffset: 0, publishedOffset: 0 };
}

describe('ClaimHeads', () => {
  it('knows nothing about a claim it has not seen', () => {
    expect(new ClaimHeads().known(claim(0, 1), ['a'])).toBeUndefined();
  });

  it('answers only when every room of the batch is known, leaving rooms without messages out', () => {
    const heads = new ClaimHeads();
    heads.learn(claim(0, 1), ['a', 'b'], new Map([['a', 7]]));
    expect(heads.known(claim(0, 1), ['a', 'b'])).toEqual(new Map([['a', 7]]));
    expect(heads.known(claim(0, 1), ['a', 'c'])).toBeUndefined();
    expect(heads.known(claim(0, 1), [])).toEqual(new Map());
  });

  it('moves a room head to the last committed message of that room', () => {
    const heads = new ClaimHeads();
    heads.learn(claim(0, 1), ['a', 'b'], new Map());
    heads.advance(claim(0, 1), [
      { roomId: 'a', seq: 10 },
      { roomId: 'b', seq: 11 },
      { roomId: 'a', seq: 12 },
    ]);
    expect(heads.known(claim(0, 1), ['a', 'b'])).toEqual(
      new Map([
        ['a', 12],
        ['b', 11],
      ]),
    );
  });

  it('trusts nothing learned under an older generation or epoch', () => {
    const heads = new ClaimHeads();
    heads.learn(claim(0, 1), ['a'], new Map([['a', 3]]));
    expect(heads.known(claim(0, 2), ['a'])).toBeUndefined();
    expect(heads.known(claim(0, 1, 'e2'), ['a'])).toBeUndefined();
    heads.learn(claim(0, 2), ['b'], new Map());
    expect(heads.known(claim(0, 1), ['a'])).toBeUndefined();
  });

  it('lets a stale claim neither read nor replace the newer claim of its partition', () => {
    const heads = new ClaimHeads();
    heads.learn(claim(0, 2), ['a'], new Map([['a', 5]]));
    heads.advance(claim(0, 1), [{ roomId: 'a', seq: 9 }]);
    expect(heads.known(claim(0, 1), ['a'])).toBeUndefined();
    expect(heads.known(claim(0, 2), ['a'])).toEqual(new Map([['a', 5]]));
  });

  it('keeps partitions apart and forgets only the claim it is told to', () => {
    const heads = new ClaimHeads();
    heads.learn(claim(0, 1), ['a'], new Map([['a', 1]]));
    heads.learn(claim(1, 1), ['b'], new Map([['b', 2]]));
    expect(heads.known(claim(1, 1), ['a'])).toBeUndefined();
    heads.forget(claim(0, 2));
    expect(heads.known(claim(0, 1), ['a'])).toEqual(new Map([['a', 1]]));
    heads.forget(claim(0, 1));
    expect(heads.known(claim(0, 1), ['a'])).toBeUndefined();
    expect(heads.known(claim(1, 1), ['b'])).toEqual(new Map([['b', 2]]));
  });

  it('drops the least recently used room beyond its bound', () => {
    const heads = new ClaimHeads(2);
    heads.learn(claim(0, 1), ['a', 'b'], new Map());
    expect(heads.known(claim(0, 1), ['a'])).toEqual(new Map());
    heads.learn(claim(0, 1), ['c'], new Map());
    expect(heads.known(claim(0, 1), ['b'])).toBeUndefined();
    expect(heads.known(claim(0, 1), ['a', 'c'])).toEqual(new Map());
  });

  it('remembers nothing with a bound of 0, and refuses a bound that is not a whole number', () => {
    const heads = new ClaimHeads(0);
    heads.learn(claim(0, 1), ['a'], new Map());
    expect(heads.known(claim(0, 1), ['a'])).toBeUndefined();
    expect(() => new ClaimHeads(-1)).toThrow(/whole number/);
    expect(() => new ClaimHeads(1.5)).toThrow(/whole number/);
  });
});
