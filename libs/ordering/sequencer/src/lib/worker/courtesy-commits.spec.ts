import { CourtesyCommits, type PartitionOffset } from './courtesy-commits';

describe('CourtesyCommits', () => {
  let sent: PartitionOffset[][];
  let release: (() => void)[];
  const commit = (offsets: PartitionOffset[]) => {
    sent.push(offsets);
    return new Promise<void>((resolve) => release.push(resolve));
  };

  beforeEach(() => {
    jest.useFakeTimers();
    sent = [];
    release = [];
  });
  afterEach(() => jest.useRealTimers());

  it('sends every partition newest offset in one request per interval', async () => {
    const commits = new CourtesyCommits(commit, 1_000);
    commits.add(1, 10);
    commits.add(2, 5);
    commits.add(1, 12);
    commits.add(1, 11);
    jest.advanceTimersByTime(999);
    expect(sent).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(sent).toEqual([
      [
        { partition: 1, offset: 12 },
        { partition: 2, offset: 5 },
      ],
    ]);
    commits.add(2, 6);
    jest.advanceTimersByTime(5_000);
    expect(sent).toHaveLength(1); // the next waits for the request in flight...
    release[0]?.();
    await Promise.resolve();
    await Promise.resolve();
    jest.advanceTimersByTime(1_000); // ...and then for its own interval
    expect(sent[1]).toEqual([{ partition: 2, offset: 6 }]);
  });

  it('sends nothing when nothing is pending, and nothing for partitions forgotten', () => {
    const commits = new CourtesyCommits(commit, 1_000);
    jest.advanceTimersByTime(10_000);
    commits.add(3, 7);
    commits.add(4, 8);
    commits.forget([3]);
    jest.advanceTimersByTime(1_000);
    expect(sent).toEqual([[{ partition: 4, offset: 8 }]]);
  });

  it('keeps one request in flight when two flushes overlap', async () => {
    const commits = new CourtesyCommits(commit, 1_000);
    commits.add(1, 1);
    const first = commits.flush();
    commits.add(2, 2);
    const second = commits.flush();
    for (let i = 0; i < 5; i++) await Promise.resolve();
    expect(sent).toEqual([[{ partition: 1, offset: 1 }]]);
    release[0]?.();
    for (let i = 0; i < 5 && sent.length < 2; i++) await Promise.resolve();
    expect(sent[1]).toEqual([{ partition: 2, offset: 2 }]);
    release[1]?.();
    await Promise.all([first, second]);
    expect(sent).toHaveLength(2);
  });

  it('drops what is pending on discard (a simulated crash commits nothing more)', () => {
    const commits = new CourtesyCommits(commit, 1_000);
    commits.add(1, 5);
    commits.discard();
    jest.advanceTimersByTime(5_000);
    expect(sent).toEqual([]);
  });

  it('flushes at once, after the request in flight, and the interval does not send it again', async () => {
    const commits = new CourtesyCommits(commit, 1_000);
    commits.add(1, 1);
    jest.advanceTimersByTime(1_000);
    commits.add(1, 2);
    let flushed = false;
    const flushing = commits.flush().then(() => (flushed = true));
    await Promise.resolve();
    expect(sent).toHaveLength(1);
    release[0]?.();
    for (let i = 0; i < 5 && sent.length < 2; i++) await Promise.resolve();
    expect(sent[1]).toEqual([{ partition: 1, offset: 2 }]);
    expect(flushed).toBe(false);
    release[1]?.();
    await flushing;
    jest.advanceTimersByTime(5_000);
    expect(sent).toHaveLength(2);
  });
});
