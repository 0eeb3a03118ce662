import type { Logger } from '@nestjs/common';
import type { ClaimRequest, PartitionClaim, SequencerStore } from '@seqcast/ordering-domain';
import type { LagReporter } from './lag-reporter';
import { PartitionClaims, type PartitionFlow } from './partition-claims';

/** A promise settled from outside, to hold a store call open. */
function deferred<T>(): { promise: Promise<T>; resolve(value: T): void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((res) => (resolve = res));
  return { promise, resolve };
}

/** The store calls in the order they started; markPublished answers from `marks`, in order. */
function fakeStore(marks: Array<() => Promise<boolean>>) {
  const calls: string[] = [];
  let generation = 0;
  const store: Pick<SequencerStore, 'claim' | 'markPublished' | 'skipTo'> = {
    claim: async (request: ClaimRequest): Promise<PartitionClaim> => {
      calls.push(`claim ${request.partition}`);
      generation++;
      return { ...request, epoch: 'e1', generation, nextOffset: 10, publishedOffset: 4 };
    },
    markPublished: (claim: PartitionClaim, offset: number) => {
      calls.push(`mark ${claim.partition} ${offset}`);
      const answer = marks.shift();
      if (!answer) throw new Error('unexpected markPublished');
      return answer();
    },
    skipTo: async () => true,
  };
  return { store: store as SequencerStore, calls };
}

const DELAY_MS = 1_000;

function claimsWith(store: SequencerStore) {
  const warnings: string[] = [];
  const paused: number[] = [];
  const flow: PartitionFlow = {
    isAssigned: () => true,
    pause: (partition) => paused.push(partition),
    resume: () => undefined,
    seek: () => undefined,
  };
  const claims = new PartitionClaims({
    store,
    owner: 'test',
    messagesTopic: 'messages',
    logOffsets: async () => ({ low: 0, high: 100 }),
    flow,
    lag: { setPosition: () => undefined, report: () => undefined } as unknown as LagReporter,
    isRunning: () => true,
    logger: { log: () => undefined, warn: (line: string) => warnings.push(line) } as unknown as Logger,
    recordDelayMs: DELAY_MS,
  });
  return { claims, warnings, paused };
}

/** Lets every callback queued on already settled promises run. */
const flushed = () => new Promise((resolve) => setImmediate(resolve));

describe('PartitionClaims.recordPublished', () => {
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] }));
  afterEach(() => jest.useRealTimers());

  it('raises the position in memory at once and writes it after the delay when no batch write carried it', async () => {
    const { store, calls } = fakeStore([async () => true]);
    const { claims } = claimsWith(store);
    const state = await claims.current(3);

    claims.recordPublished(state, 12);
    expect(state.publishedOffset).toBe(12);
    jest.advanceTimersByTime(DELAY_MS - 1);
    await flushed();
    expect(calls).toEqual(['claim 3']);

    jest.advanceTimersByTime(1);
    await claims.settled();
    expect(calls).toEqual(['claim 3', 'mark 3 12']);
    expect(state.storedPublishedOffset).toBe(12);
  });

  it('writes nothing of its own when the partition’s next batch write carried the position', async () => {
    const { store, calls } = fakeStore([]);
    const { claims } = claimsWith(store);
    const state = await claims.current(0);

    claims.recordPublished(state, 11);
    claims.storedPublished(state, 11);
    jest.advanceTimersByTime(DELAY_MS);
    await claims.settled();
    expect(calls).toEqual(['claim 0']);
  });

  it('settled() writes a waiting position at once and resolves only once it is written', async () => {
    const write = deferred<boolean>();
    const { store, calls } = fakeStore([() => write.promise]);
    const { claims } = claimsWith(store);
    const state = await claims.current(1);

    claims.recordPublished(state, 14);
    let settled = false;
    const waiting = claims.settled().then(() => (settled = true));
    await flushed();
    expect(calls).toEqual(['claim 1', 'mark 1 14']);
    expect(settled).toBe(false);

    write.resolve(true);
    await waiting;
    expect(settled).toBe(true);
  });

  it('writes one partition’s positions in order, the next only after the previous answered', async () => {
    const first = deferred<boolean>();
    const { store, calls } = fakeStore([() => first.promise, async () => true]);
    const { claims } = claimsWith(store);
    const state = await claims.current(0);

    claims.recordPublished(state, 11);
    jest.advanceTimersByTime(DELAY_MS);
    await flushed();
    claims.recordPublished(state, 15);
    const done = claims.settled();
    await flushed();
    expect(calls).toEqual(['claim 0', 'mark 0 11']);

    first.resolve(true);
    await done;
    expect(calls).toEqual(['claim 0', 'mark 0 11', 'mark 0 15']);
  });

  it('writes a waiting position before the partition is claimed again (no republishing after a rejoin)', async () => {
    const write = deferred<boolean>();
    const { store, calls } = fakeStore([() => write.promise]);
    const { claims } = claimsWith(store);
    const state = await claims.current(5);
    claims.recordPublished(state, 20);

    claims.releaseAll();
    const reclaimed = claims.current(5);
    await flushed();
    expect(calls).toEqual(['claim 5', 'mark 5 20']);

    write.resolve(true);
    await reclaimed;
    expect(calls).toEqual(['claim 5', 'mark 5 20', 'claim 5']);
  });

  it('fences the claim when the write is refused (another worker claimed the partition)', async () => {
    const { store } = fakeStore([async () => false]);
    const { claims, paused } = claimsWith(store);
    const state = await claims.current(2);

    claims.recordPublished(state, 30);
    await claims.settled();
    expect(state.fenced).toBe(true);
    expect(state.storedPublishedOffset).toBe(4);
    expect(paused).toEqual([2]);
    claims.clearTimers();
  });

  it('logs a failed write and still settles: PostgreSQL keeps the lower position (republishing, not loss)', async () => {
    const { store } = fakeStore([async () => Promise.reject(new Error('connection reset'))]);
    const { claims, warnings } = claimsWith(store);
    const state = await claims.current(1);

    claims.recordPublished(state, 13);
    await claims.settled();
    expect(state.fenced).toBe(false);
    expect(state.storedPublishedOffset).toBe(4);
    expect(warnings).toEqual([expect.stringMatching(/partition 1: recording published offset 13 failed: connection reset/)]);
  });
});
