import type {
  BatchWrite,
  CommitOutcome,
  GroupedBatch,
  GroupedOutcome,
  PartitionClaim,
  SequencedBatch,
  SequencerStore,
} from '@seqcast/ordering-domain';
import { CommitGroups } from './commit-groups';

const claim = (partition: number, epoch = 'e1'): PartitionClaim => ({
  epoch,
  topic: 't',
  partition,
  owner: 'w',
  generation: 1,
  nextOffset: 0,
  publishedOffset: 0,
});

const write = (fromOffset = 0, extra: Partial<BatchWrite<SequencedBatch>> = {}): BatchWrite<SequencedBatch> => ({
  fromOffset,
  nextOffset: fromOffset + 1,
  roomIds: [],
  ids: [],
  sequence: () => ({ messages: [], deadLetters: [] }),
  ...extra,
});

/** Records the calls; a group's commit waits until `release` is called. */
class RecordingStore implements Pick<SequencerStore, 'commitBatch' | 'commitBatches'> {
  readonly groups: number[][] = [];
  readonly alone: number[] = [];
  groupError: Error | undefined;
  failAlone = new Set<number>();
  private gate: { promise: Promise<void>; resolve: () => void } | undefined;

  hold(): void {
    // Not Promise.withResolvers: the workspace's TypeScript lib is es2022.
    let resolve: () => void = () => undefined;
    const promise = new Promise<void>((done) => (resolve = done));
    this.gate = { promise, resolve };
  }
  release(): void {
    this.gate?.resolve();
    this.gate = undefined;
  }

  async commitBatch<R extends SequencedBatch>(c: PartitionClaim, w: BatchWrite<R>): Promise<CommitOutcome<R>> {
    this.alone.push(c.partition);
    if (this.failAlone.has(c.partition)) throw new Error(`partition ${c.partition} failed`);
    return { status: 'committed', result: w.sequence({ stored: new Map(), heads: new Map() }) };
  }

  async commitBatches<R extends SequencedBatch>(batches: GroupedBatch<R>[]): Promise<GroupedOutcome<R>[]> {
    this.groups.push(batches.map((b) => b.claim.partition));
    await this.gate?.promise;
    if (this.groupError) throw this.groupError;
    return batches.map(({ claim: c, write: w }) =>
      c.partition === 99
        ? { status: 'fenced', reason: 'generation is 2, this claim holds 1' }
        : { status: 'committed', result: w.sequence({ stored: new Map(), heads: new Map() }) },
    );
  }
}

function groupsOn(store: RecordingStore, maxInFlight?: number): CommitGroups {
  return new CommitGroups(store as unknown as SequencerStore, maxInFlight);
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('CommitGroups', () => {
  it('commits the batches ready in the same turn as one group, each with its own outcome', async () => {
    const store = new RecordingStore();
    const groups = groupsOn(store);
    const outcomes = await Promise.all([
      groups.commit(claim(1), write()),
      groups.commit(claim(99), write()),
      groups.commit(claim(2), write()),
    ]);
    expect(store.groups).toEqual([[1, 99, 2]]);
    expect(outcomes.map((o) => o.status)).toEqual(['committed', 'fenced', 'committed']);
  });

  it('gathers what arrives during a group into the next one, one batch per partition and epoch per group', async () => {
    const store = new RecordingStore();
    const groups = groupsOn(store, 1);
    store.hold();
    const first = [groups.commit(claim(1), write()), groups.commit(claim(2), write())];
    await nextTurn();
    expect(store.groups).toEqual([[1, 2]]);
    const later = [
      groups.commit(claim(3), write()),
      groups.commit(claim(4, 'e2'), write()),
      groups.commit(claim(5), write()),
      groups.commit(claim(3), write(1)),
      groups.commit(claim(6), write()),
    ];
    store.release();
    await Promise.all([...first, ...later]);
    // After [1, 2]: one group per epoch, and partition 3's second batch after its first.
    expect(store.groups).toEqual([
      [1, 2],
      [3, 5, 6],
    ]);
    expect(store.alone).toEqual([4, 3]);
  });

  it('starts a second group while one commits, without a partition that is in the first', async () => {
    const store = new RecordingStore();
    const groups = groupsOn(store, 2);
    store.hold();
    const first = [groups.commit(claim(1), write()), groups.commit(claim(2), write())];
    await nextTurn();
    const second = [groups.commit(claim(2), write(1)), groups.commit(claim(3), write())];
    await nextTurn();
    // A group of one commits alone.
    expect(store.groups).toEqual([[1, 2]]);
    expect(store.alone).toEqual([3]);
    store.release();
    await Promise.all([...first, ...second]);
    expect(store.groups).toEqual([[1, 2]]);
    expect(store.alone).toEqual([3, 2]);
  });

  it('commits each member alone when the group fails, so an error stays with its partition', async () => {
    const store = new RecordingStore();
    store.groupError = new Error('deadlock detected');
    store.failAlone.add(2);
    const groups = groupsOn(store);
    const results = await Promise.allSettled([
      groups.commit(claim(1), write()),
      groups.commit(claim(2), write()),
      groups.commit(claim(3), write()),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(store.alone.sort()).toEqual([1, 2, 3]);
  });

  it('sends a large batch alone, at once', async () => {
    const store = new RecordingStore();
    const groups = groupsOn(store);
    const large = { ...write(0), nextOffset: 17 };
    const outcomes = await Promise.all([
      groups.commit(claim(1), large),
      groups.commit(claim(2), write()),
      groups.commit(claim(3), write()),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['committed', 'committed', 'committed']);
    expect(store.alone).toEqual([1]);
    expect(store.groups).toEqual([[2, 3]]);
  });

  it('sends a batch with a beforeCommit hook alone, at once', async () => {
    const store = new RecordingStore();
    const groups = groupsOn(store);
    const outcome = await groups.commit(claim(1), write(0, { beforeCommit: async () => undefined }));
    expect(outcome.status).toBe('committed');
    expect(store.groups).toEqual([]);
    expect(store.alone).toEqual([1]);
  });
});
