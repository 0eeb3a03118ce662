/**
 * The worker's membership in the consumer group: one ResilientConsumer on the messages topic
 * (recreated with backoff if kafkajs gives up on it), which partitions Kafka assigns here, which of
 * them this worker paused, and the heartbeat that keeps a member alive through a slow batch.
 */
import type { Logger } from '@nestjs/common';
import {
  createResilientConsumer,
  DEFAULT_GROUP_TIMEOUTS,
  type EachBatchPayload,
  type GroupConsumer,
  type GroupTimeouts,
  type Kafka,
} from '@seqcast/kafka';
import { workerMetrics } from '../worker.metrics';
import { COURTESY_COMMIT_INTERVAL_MS, CourtesyCommits, type PartitionOffset } from './courtesy-commits';
import { describeError } from './worker-errors';

export interface PartitionConsumerOptions {
  messagesTopic: string;
  groupId: string;
  partitionsConsumedConcurrently: number;
  timeouts: GroupTimeouts;
  /** Default COURTESY_COMMIT_INTERVAL_MS. */
  commitIntervalMs?: number;
  /** After every group join, once the new assignment is in place; `revoked` were ours before it. */
  onJoin: (revoked: number[]) => void;
  /** One batch of one partition; `join` numbers the group join it was fetched under. */
  onBatch: (payload: EachBatchPayload, join: number) => Promise<void>;
  logger: Logger;
}

export function groupTimeouts(settings: Partial<GroupTimeouts>): GroupTimeouts {
  return {
    sessionTimeoutMs: settings.sessionTimeoutMs ?? DEFAULT_GROUP_TIMEOUTS.sessionTimeoutMs,
    heartbeatIntervalMs: settings.heartbeatIntervalMs ?? DEFAULT_GROUP_TIMEOUTS.heartbeatIntervalMs,
    rebalanceTimeoutMs: settings.rebalanceTimeoutMs ?? DEFAULT_GROUP_TIMEOUTS.rebalanceTimeoutMs,
  };
}

export class PartitionConsumer {
  private consumer: GroupConsumer | undefined;
  /** Bumped on every group join; a batch started under an older join must not act. */
  private joinCount = 0;
  private assigned = new Set<number>();
  private readonly paused = new Set<number>();
  /** Kafka offset commits, at most one request per interval (see CourtesyCommits). */
  private readonly commits: CourtesyCommits;
  /** Batches between entering onBatch and returning from it (for the drain log line). */
  private inFlight = 0;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: PartitionConsumerOptions,
  ) {
    this.commits = new CourtesyCommits(
      (offsets) => this.sendCommit(offsets),
      options.commitIntervalMs ?? COURTESY_COMMIT_INTERVAL_MS,
    );
  }

  /** Joins the group in the background; never waits for Kafka. */
  start(): void {
    this.consumer = this.createConsumer();
    this.consumer.start();
  }

  /**
   * Commits the offsets still pending (not after a simulated crash: a process that died would not),
   * waits for the batches in flight (eachBatch returns; theirs are committed at once, see
   * commitOffset), then sends LeaveGroup.
   */
  async stop(options: { commitPending: boolean } = { commitPending: true }): Promise<void> {
    if (options.commitPending) await this.commits.flush();
    else this.commits.discard();
    await this.consumer?.stop();
  }

  /** Partitions Kafka currently assigns to this worker. */
  get assignment(): ReadonlySet<number> {
    return this.assigned;
  }

  get batchesInFlight(): number {
    return this.inFlight;
  }

  /** Whether a batch fetched under group join `join` may still act for `partition`. */
  isCurrent(join: number, partition: number): boolean {
    return join === this.joinCount && this.assigned.has(partition);
  }

  assertConsuming(): void {
    this.consumer?.assertConsuming();
  }

  pause(partition: number): void {
    if (!this.consumer) return;
    this.consumer.pause([{ topic: this.options.messagesTopic, partitions: [partition] }]);
    this.paused.add(partition);
  }

  resume(partition: number): void {
    this.paused.delete(partition);
    this.consumer?.resume([{ topic: this.options.messagesTopic, partitions: [partition] }]);
  }

  seek(partition: number, offset: number): void {
    this.consumer?.seek({ topic: this.options.messagesTopic, partition, offset: String(offset) });
  }

  /**
   * A courtesy only (faster restarts): PostgreSQL holds the position that counts. Sent with the
   * other partitions' at most once per interval (CourtesyCommits), or at once with `now` (a batch
   * that ends while the worker stops, so the next owner starts where this one stopped).
   */
  commitOffset(partition: number, offset: number, now = false): void {
    this.commits.add(partition, offset);
    if (now) void this.commits.flush();
  }

  private async sendCommit(offsets: PartitionOffset[]): Promise<void> {
    try {
      await this.consumer?.commitOffsets(
        offsets.map(({ partition, offset }) => ({
          topic: this.options.messagesTopic,
          partition,
          offset: String(offset),
        })),
      );
    } catch (error) {
      this.options.logger.debug(
        `partitions ${offsets.map((o) => o.partition).join(',')}: Kafka offset commit failed: ` + describeError(error),
      );
    }
  }

  /**
   * Take-over speed is set by the group timeouts: a worker killed without LeaveGroup holds its
   * partitions until its session times out (see ResilientConsumer). Correctness does not depend on
   * them: every join invalidates every claim, and a zombie's commits are refused by the fence.
   */
  private createConsumer(): GroupConsumer {
    const { messagesTopic, groupId, logger } = this.options;
    return createResilientConsumer(this.kafka, {
      name: 'Kafka consumer',
      consumer: {
        groupId,
        allowAutoTopicCreation: false,
        // A drain waits for the fetch in flight; an idle long poll of kafkajs' default 5 s would hold
        // the partitions that long. At most one empty fetch per second per broker is the price.
        maxWaitTimeInMs: 1_000,
      },
      timeouts: this.options.timeouts,
      subscribe: { topics: [messagesTopic], fromBeginning: true },
      run: {
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently,
        eachBatch: (payload) => this.onBatch(payload),
      },
      onJoin: (assignment) => this.onGroupJoin(assignment[messagesTopic] ?? []),
      logger: { log: (message) => logger.log(message), warn: (message) => logger.warn(message) },
    });
  }

  private onGroupJoin(partitions: number[]): void {
    this.joinCount++;
    const revoked = [...this.assigned].filter((partition) => !partitions.includes(partition));
    this.assigned = new Set(partitions);
    this.commits.forget(revoked);
    workerMetrics.assignedPartitions.set(partitions.length);
    if (this.paused.size > 0 && this.consumer) {
      this.consumer.resume([{ topic: this.options.messagesTopic, partitions: [...this.paused] }]);
      this.paused.clear();
    }
    this.options.onJoin(revoked);
    const list = [...this.assigned].sort((a, b) => a - b).join(',') || 'none';
    this.options.logger.log(`joined group ${this.options.groupId}: assigned partitions ${list}`);
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    this.inFlight++;
    const join = this.joinCount;
    // kafkajs only heartbeats between batches. With a session of a few seconds, one slow
    // transaction or publish (up to the producer's 10 s deadline) would get this live worker evicted
    // and its partitions moved for nothing. A heartbeat refused because the group rebalances is left
    // to kafkajs, which sees it again on its own next heartbeat and rejoins.
    const keepAlive = setInterval(
      () => void payload.heartbeat().catch(() => undefined),
      this.options.timeouts.heartbeatIntervalMs,
    );
    try {
      await this.options.onBatch(payload, join);
    } finally {
      clearInterval(keepAlive);
      this.inFlight--;
    }
  }
}
