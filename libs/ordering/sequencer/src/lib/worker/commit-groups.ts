/**
 * Group commit for the partition lanes. kafkajs hands the batches of one fetch to up to
 * `WORKER_PARTITIONS_CONCURRENCY` lanes at once; each used to commit on its own (two round trips and
 * a commit each), so at 1,000 msg/s a dozen small commits contended on the WAL and the CPU at the
 * same moment. Here a lane's batch waits for the current group's commit (or, when none is running,
 * for the rest of this turn of the event loop) and then goes with every batch that became ready
 * meanwhile, in ONE transaction (SequencerStore.commitBatches).
 *
 * Every member keeps its own guarantees: its own fence (a fenced member writes nothing and is
 * answered `fenced`, the others commit), its messages + position atomic (the group is all or
 * nothing, so a member is never half-written), its partition's order (a lane has one batch in
 * flight). A database error rolls the whole group back; each member is then tried alone, so one
 * partition's failing batch fails only that partition's lane.
 */
import type {
  BatchWrite,
  CommitOutcome,
  GroupedOutcome,
  PartitionClaim,
  SequencedBatch,
  SequencerStore,
} from '@seqcast/ordering-domain';
import { workerMetrics } from '../worker.metrics';

/**
 * Batches of more records than this commit alone, in parallel as before: grouping pays for small
 * batches (the commit and the round trips dominate), while a group of large ones runs their
 * statements one after another on one backend (store-bench, 12 lanes: batch 3 gains, batch 30 is
 * even, batch 100 loses about a third of its rate grouped).
 */
export const GROUP_MAX_RECORDS = 16;

interface Member {
  claim: PartitionClaim;
  write: BatchWrite<SequencedBatch>;
  settle: (outcome: GroupedOutcome<SequencedBatch>) => void;
}

export class CommitGroups {
  private queue: Member[] = [];
  private inFlight = 0;
  /** Partitions whose batch is in a group being committed: their next batch waits for the next group. */
  private readonly committing = new Set<number>();
  private scheduled = false;

  /**
   * `maxInFlight` groups may be committing at once: with one, the node process idles while the
   * database works on the group and the other way round; with two, the next group is read and
   * sequenced while the previous one is written and flushed.
   */
  constructor(
    private readonly store: SequencerStore,
    private readonly maxInFlight = 2,
    private readonly maxRecords = GROUP_MAX_RECORDS,
  ) {}

  /** commitBatch, grouped with the other lanes' batches that are ready at the same time. */
  commit<R extends SequencedBatch>(claim: PartitionClaim, write: BatchWrite<R>): Promise<CommitOutcome<R>> {
    // Test hooks run between the write and COMMIT of one batch: those batches go alone.
    if (write.beforeCommit || !this.store.commitBatches || write.nextOffset - write.fromOffset > this.maxRecords) {
      return this.store.commitBatch(claim, write).then((outcome) => {
        workerMetrics.commitGroups.inc();
        return outcome;
      });
    }
    return new Promise<CommitOutcome<R>>((resolve, reject) => {
      this.queue.push({
        claim,
        write: write as unknown as BatchWrite<SequencedBatch>,
        settle: (outcome) => {
          if (outcome.status === 'failed') reject(outcome.error);
          else resolve(outcome as CommitOutcome<R>);
        },
      });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.maxInFlight) return;
    this.scheduled = true;
    // The lanes of one fetch reach their commit within the same turn (their steps before it are
    // in-memory), so one setImmediate gathers them without waiting on a timer.
    setImmediate(() => {
      this.scheduled = false;
      this.startGroups();
    });
  }

  private startGroups(): void {
    while (this.inFlight < this.maxInFlight) {
      const group = this.takeGroup();
      if (group.length === 0) return;
      this.inFlight++;
      for (const { claim } of group) this.committing.add(claim.partition);
      void this.runGroup(group).finally(() => {
        this.inFlight--;
        for (const { claim } of group) this.committing.delete(claim.partition);
        // What queued meanwhile goes now (no setImmediate: it has been gathering all along).
        this.startGroups();
      });
    }
  }

  /** Everything queued for the first member's epoch and topic, at most one batch per partition. */
  private takeGroup(): Member[] {
    const group: Member[] = [];
    const rest: Member[] = [];
    const partitions = new Set<number>();
    let first: PartitionClaim | undefined;
    for (const member of this.queue) {
      const { claim } = member;
      const free = !partitions.has(claim.partition) && !this.committing.has(claim.partition);
      if (free && !first) first = claim;
      if (free && first && claim.epoch === first.epoch && claim.topic === first.topic) {
        partitions.add(claim.partition);
        group.push(member);
      } else {
        rest.push(member);
      }
    }
    this.queue = rest;
    return group;
  }

  private async runGroup(group: Member[]): Promise<void> {
    const { store } = this;
    if (group.length === 0) return;
    if (group.length === 1 || !store.commitBatches) {
      await Promise.all(group.map((member) => this.alone(member)));
      return;
    }
    let outcomes: GroupedOutcome<SequencedBatch>[];
    try {
      outcomes = await store.commitBatches(group.map(({ claim, write }) => ({ claim, write })));
    } catch {
      // The group rolled back as a whole: each member alone, so the error stays with its partition.
      await Promise.all(group.map((member) => this.alone(member)));
      return;
    }
    workerMetrics.commitGroups.inc();
    group.forEach((member, index) => member.settle(outcomes[index] ?? { status: 'failed', error: lost(member) }));
  }

  private async alone(member: Member): Promise<void> {
    try {
      member.settle(await this.store.commitBatch(member.claim, member.write));
      workerMetrics.commitGroups.inc();
    } catch (error) {
      member.settle({ status: 'failed', error });
    }
  }
}

function lost(member: Member): Error {
  return new Error(`partition ${member.claim.partition}: the commit group returned no outcome for this batch`);
}
