/**
 * Per-partition order for the events publishes, without holding the consumer.
 *
 * A batch's events are sent once its transaction committed (commit precedes publish: the gateway's
 * subscribe seam and the SDK's resume rely on "an event seen ⇒ stored"), but the batch no longer
 * waits for the broker's acknowledgement before it returns: the partition's next batch is fetched,
 * sequenced and committed while the previous batch's events are on their way. The links of one
 * partition run strictly one after the other, so the events topic receives a partition's events in
 * commit order. A link that fails (after its own retries) marks its claim: the links queued behind
 * it on that claim send nothing (what they would send is stored; the outbox of the next claim sends
 * it, from `published_offset`, in order).
 */
import type { PartitionState } from './partition-claims';

interface Link {
  state: PartitionState;
  /** Settles (never rejects) when this link has, and so every link before it. */
  settled: Promise<void>;
}

export class PublishPipeline {
  /** Per partition, the links not settled yet, oldest first. */
  private readonly links = new Map<number, Link[]>();
  private readonly failures = new WeakMap<PartitionState, { error: unknown }>();

  /**
   * Runs `publish` after every link queued before it for the state's partition. Resolves when it
   * ran; rejects with its error, or with the error of an earlier link of the same claim (then it
   * does not run).
   */
  enqueue(state: PartitionState, publish: () => Promise<void>): Promise<void> {
    const partition = state.claim.partition;
    const queue = this.links.get(partition) ?? [];
    const before = queue[queue.length - 1]?.settled ?? Promise.resolve();
    const link = before.then(() => {
      const failed = this.failures.get(state);
      if (failed) throw failed.error;
      return publish();
    });
    const entry: Link = {
      state,
      settled: link.then(
        () => undefined,
        (error: unknown) => {
          if (!this.failures.has(state)) this.failures.set(state, { error });
        },
      ),
    };
    queue.push(entry);
    this.links.set(partition, queue);
    void entry.settled.then(() => {
      // Links settle in order, so this one is the oldest.
      queue.shift();
      if (queue.length === 0 && this.links.get(partition) === queue) this.links.delete(partition);
    });
    return link;
  }

  /** The error that stopped this claim's links, if one failed. */
  failure(state: PartitionState): { error: unknown } | undefined {
    return this.failures.get(state);
  }

  /** Whether links of this claim are queued or running. */
  busy(state: PartitionState): boolean {
    return this.last(state.claim.partition)?.state === state;
  }

  /** Settles once the links queued for `partition` by any claim other than `current` have. */
  async settledExcept(partition: number, current: PartitionState | undefined): Promise<void> {
    const last = this.last(partition);
    if (last && last.state !== current) await last.settled;
  }

  /**
   * Settles once at most `count` links of `partition` are unsettled: bounds how many committed
   * batches' events a partition holds in memory while its sends are slow or retrying.
   */
  async settledDownTo(partition: number, count: number): Promise<void> {
    for (;;) {
      const queue = this.links.get(partition);
      if (!queue || queue.length <= count) return;
      await queue[queue.length - 1 - count]?.settled;
    }
  }

  /** Settles once every link queued so far has. */
  async idle(): Promise<void> {
    await Promise.all([...this.links.values()].map((queue) => queue[queue.length - 1]?.settled));
  }

  private last(partition: number): Link | undefined {
    const queue = this.links.get(partition);
    return queue?.[queue.length - 1];
  }
}
