import { partitionLags } from './lag-reporter';

describe('partitionLags', () => {
  const ends = new Map([
    [0, 100],
    [1, 50],
    [2, 7],
  ]);

  it('is the log end minus the known position of each assigned partition', () => {
    expect(
      partitionLags(
        [0, 1],
        ends,
        new Map([
          [0, 90],
          [1, 50],
        ]),
        undefined,
      ),
    ).toEqual(
      new Map([
        [0, 10],
        [1, 0],
      ]),
    );
  });

  it('uses the committed offset for a partition whose position is not known yet', () => {
    expect(partitionLags([0, 2], ends, new Map([[0, 100]]), new Map([[2, 3]]))).toEqual(
      new Map([
        [0, 0],
        [2, 4],
      ]),
    );
  });

  it('leaves out partitions without a log end or any position', () => {
    expect(partitionLags([1, 3], ends, new Map(), new Map([[3, 1]]))).toEqual(new Map());
  });
});
