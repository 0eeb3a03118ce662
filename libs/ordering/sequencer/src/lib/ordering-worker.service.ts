/**
 * The ordering worker: consumes the messages topic partition by partition, sequences each batch
 * into PostgreSQL in one fenced transaction, then republishes the new messages to the events
 * topic on the same partition.
 *
 * Truth lives in PostgreSQL, not in Kafka's committed offsets:
 * - On the first batch of a partition after every (re)join the worker claims it (bumping its
 *   generation) and resumes from the stored `next_offset`: records below it are skipped, and a
 *   batch starting above it makes the worker seek back.
 * - A stored position beyond the log end means the input topic was recreated: the epoch is
 *   rotated (compare-and-set, so concurrent workers agree) and numbering restarts.
 * - After a claim, and after any failed publish, stored messages from `published_offset` on are
 *   republished first (the outbox), so a crash between commit and publish loses no event.
 * - A commit refused by the fence (another worker claimed since) pauses the partition; it is
 *   re-claimed after the next rebalance, or after `fencedPauseMs` if Kafka still assigns it here.
 * - Database and Kafka errors retry the batch with backoff and never skip it; poison records are
 *   dead-lettered by the sequencing rule, so they cannot block a partition.
 * - The lanes' batches that reach their commit at the same time share one transaction (group
 *   commit, CommitGroups), each still fenced on its own; batches of more than 16 records commit alone.
 * Kafka offsets are committed only as a courtesy (faster restarts), not awaited: every partition's
 * newest together, at most once a second (CourtesyCommits), and at once while stopping.
 *
 * Shutdown (stop(), run by Nest before the app closes): no new batch starts; the batches in flight
 * finish their transaction and publish their events; then the consumer disconnects, which sends
 * LeaveGroup so the remaining workers rebalance at once instead of after the session timeout. If
 * the process is killed before that (forced exit), a batch's transaction is atomic: it is either
 * committed with its position or rolled back, and the next owner resumes from the stored position
 * and republishes anything committed but unpublished (outbox).
 *
 * Metrics (worker.metrics.ts): counts per batch, transaction and publish latency, and consumer lag
 * per assigned partition (log end offset − position), refreshed on every batch and on a timer.
 *
 * This class is the lifecycle and the per-batch pipeline; each step has its own part (./worker):
 * PartitionConsumer (group membership, pause/seek, heartbeats), PartitionClaims (claims, epoch,
 * gaps, the fence), BatchCommitter (the fenced transaction), CommitGroups (group commit),
 * EventsPublisher (events and outbox), LagReporter (the lag gauge).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  Optional,
} from '@nestjs/common';
import type { Admin, EachBatchPayload, Kafka } from '@seqcast/kafka';
import { PostgresSequencerStore } from '@seqcast/ordering-data-access';
import type { InputRecord } from '@seqcast/ordering-domain';
import type { DataSource } from '@seqcast/persistence';
import { crashPoint } from './fault-point';
import {
  ORDERING_WORKER_SETTINGS,
  type OrderingWorkerSettings,
  WORKER_DATA_SOURCE,
  WORKER_FAULTS,
  WORKER_KAFKA,
  type WorkerFaults,
} from './ordering-worker.options';
import { workerMetrics } from './worker.metrics';
import { BatchCommitter } from './worker/batch-committer';
import { CommitGroups } from './worker/commit-groups';
import { EventsPublisher } from './worker/events-publisher';
import { InterruptibleSleep } from './worker/interruptible-sleep';
import { LagReporter } from './worker/lag-reporter';
import { PartitionClaims } from './worker/partition-claims';
import { groupTimeouts, PartitionConsumer } from './worker/partition-consumer';
import { DEFAULT_RETRY_BACKOFF, retryDelayMs } from './worker/retry-backoff';
import { describeError, SimulatedCrash } from './worker/worker-errors';

@Injectable()
export class OrderingWorkerService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('OrderingWorker');
  readonly owner: string;
  private readonly consumer: PartitionConsumer;
  private readonly claims: PartitionClaims;
  private readonly committer: BatchCommitter;
  private readonly publisher: EventsPublisher;
  private readonly lag: LagReporter;
  private readonly backoff = new InterruptibleSleep();

  private state: 'idle' | 'starting' | 'running' | 'stopping' | 'stopped' | 'crashed' = 'idle';
  private admin: Admin | undefined;
  private shuttingDown: Promise<void> | undefined;

  constructor(
    @Inject(ORDERING_WORKER_SETTINGS) private readonly settings: OrderingWorkerSettings,
    @Inject(WORKER_KAFKA) private readonly kafka: Kafka,
    @Inject(WORKER_DATA_SOURCE) dataSource: DataSource,
    @Optional() @Inject(WORKER_FAULTS) faults?: WorkerFaults,
  ) {
    const store = new PostgresSequencerStore(dataSource, {
      onCommit: (path) => workerMetrics.commitPaths.inc({ path }),
    });
    const { messagesTopic, eventsTopic, groupId, partitions } = settings;
    const isRunning = () => this.running;
    this.owner = settings.owner ?? `${hostname()}/${process.pid}/${randomBytes(3).toString('hex')}`;
    this.consumer = new PartitionConsumer(kafka, {
      messagesTopic,
      groupId,
      partitionsConsumedConcurrently: settings.partitionsConsumedConcurrently,
      timeouts: groupTimeouts(settings),
      commitIntervalMs: settings.courtesyCommitIntervalMs,
      onJoin: (revoked) => this.onGroupJoin(revoked),
      onBatch: (payload, join) => this.runBatch(payload, join),
      logger: this.logger,
    });
    this.lag = new LagReporter({
      messagesTopic,
      groupId,
      intervalMs: settings.lagIntervalMs,
      assigned: () => this.consumer.assignment,
      isRunning,
      logger: this.logger,
    });
    this.claims = new PartitionClaims({
      store,
      owner: this.owner,
      messagesTopic,
      fencedPauseMs: settings.fencedPauseMs,
      logOffsets: (partition) => this.logOffsets(partition),
      flow: {
        isAssigned: (partition) => this.consumer.assignment.has(partition),
        pause: (partition) => this.consumer.pause(partition),
        resume: (partition) => this.consumer.resume(partition),
        seek: (partition, offset) => this.consumer.seek(partition, offset),
      },
      lag: this.lag,
      isRunning,
      logger: this.logger,
    });
    this.committer = new BatchCommitter({
      store,
      groups: new CommitGroups(store),
      partitions,
      claims: this.claims,
      lag: this.lag,
      faults: faults ?? {},
      logger: this.logger,
    });
    this.publisher = new EventsPublisher(kafka, {
      eventsTopic,
      partitions,
      store,
      claims: this.claims,
      logger: this.logger,
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  /** True while consuming; false once stopped or after a simulated crash. */
  get running(): boolean {
    return this.state === 'running' || this.state === 'starting';
  }

  /**
   * Returns without waiting for Kafka: the consumer joins its group in the background (recreated
   * with backoff if kafkajs gives up on it), so the process serves its probes meanwhile and a broker
   * that is down at start-up only delays consuming.
   */
  async start(): Promise<void> {
    if (this.state !== 'idle') throw new Error(`OrderingWorkerService cannot start from state ${this.state}`);
    this.state = 'starting';
    const { messagesTopic, groupId } = this.settings;
    // Both reconnect by themselves later (the producer on its next send, the admin on its next request).
    await this.publisher.connect();
    const admin = this.kafka.admin();
    this.admin = admin;
    await admin.connect().catch((error: unknown) => {
      this.logger.warn(`Kafka admin client not connected yet: ${describeError(error)}`);
    });
    this.consumer.start();
    if (this.state === 'starting') this.state = 'running';
    this.lag.start(admin);
    this.logger.log(`worker ${this.owner} joining group ${groupId} to consume ${messagesTopic}`);
  }

  /** Partitions of the messages topic Kafka currently assigns to this worker, ascending. */
  get assignedPartitions(): number[] {
    return [...this.consumer.assignment].sort((a, b) => a - b);
  }

  /**
   * Readiness: throws unless this worker is a live member of its group (joined since its last
   * rebalance or crash, fetching or heartbeating); a worker waiting to rejoin consumes nothing.
   */
  assertConsuming(): void {
    if (!this.running) throw new Error(`worker is ${this.state}`);
    this.consumer.assertConsuming();
  }

  /** Leaves the group after the batches in flight finish; idempotent. */
  async stop(): Promise<void> {
    if (this.state === 'idle' || this.state === 'stopped') return;
    const started = Date.now();
    if (this.state !== 'crashed') {
      this.state = 'stopping';
      this.logger.log(
        `worker ${this.owner} stopping: finishing ${this.consumer.batchesInFlight} batch(es) in flight, then leaving ` +
          `group ${this.settings.groupId}`,
      );
    }
    await this.shutdown();
    this.state = 'stopped';
    this.logger.log(`worker ${this.owner} stopped and left the group in ${Date.now() - started} ms`);
  }

  private shutdown(): Promise<void> {
    this.shuttingDown ??= this.closeClients();
    return this.shuttingDown;
  }

  private async closeClients(): Promise<void> {
    // Published positions still waiting for a next batch are written while the claims hold, so the
    // next owner has nothing to republish. (Batches still in flight write theirs before returning,
    // since the worker is no longer running.)
    await this.claims.settled();
    this.claims.clearTimers();
    this.backoff.wakeAll();
    this.lag.stop();
    // Waits for the batches in flight (eachBatch returns), then sends LeaveGroup.
    await this.consumer.stop({ commitPending: this.state !== 'crashed' });
    await this.publisher.disconnect();
    await this.admin
      ?.disconnect()
      .catch((error: unknown) => this.logger.warn(`admin disconnect: ${describeError(error)}`));
    this.lag.forgetAll();
    workerMetrics.assignedPartitions.set(0);
  }

  private onGroupJoin(revoked: number[]): void {
    this.lag.forget(revoked);
    this.lag.forgetPositions();
    this.claims.releaseAll();
  }

  /** Retries the batch with backoff until it is done or no longer this worker's to do. */
  private async runBatch(payload: EachBatchPayload, join: number): Promise<void> {
    const { partition } = payload.batch;
    const current = () =>
      this.running && payload.isRunning() && !payload.isStale() && this.consumer.isCurrent(join, partition);
    const backoff = {
      initialMs: this.settings.retryInitialMs ?? DEFAULT_RETRY_BACKOFF.initialMs,
      maxMs: this.settings.retryMaxMs ?? DEFAULT_RETRY_BACKOFF.maxMs,
    };
    for (let attempt = 1; current(); attempt++) {
      try {
        await this.processBatch(payload);
        return;
      } catch (error) {
        if (error instanceof SimulatedCrash) {
          this.crash(error);
          return;
        }
        // Whatever the partition state was, it may be half-done (e.g. a claim whose outbox replay
        // failed); the retry starts from a fresh claim, which is always safe.
        this.claims.release(partition);
        workerMetrics.batchFailures.inc();
        const delay = retryDelayMs(attempt, backoff);
        this.logger.warn(
          `partition ${partition}: batch from offset ${payload.batch.firstOffset()} failed (attempt ${attempt}), ` +
            `retrying in ${delay} ms: ${describeError(error)}`,
        );
        await this.backoff.sleep(delay);
        if (!current()) return;
        // Throws when the group is rebalancing: kafkajs then rejoins and redelivers the batch.
        await payload.heartbeat();
      }
    }
  }

  /** claim → outbox → gap check → fenced commit → publish → courtesy offset commit. */
  private async processBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const partition = batch.partition;
    const messages = batch.messages;
    if (messages.length === 0) return;
    const state = await this.claims.current(partition);
    if (state.fenced) return;
    // Only after a claim or a failed publish: the outbox must be drained before anything newer.
    if (state.publishedOffset < state.nextOffset) await this.publisher.publishPending(state);
    if (state.fenced) return;

    const firstOffset = Number(messages[0]?.offset);
    const lastOffset = Number(messages[messages.length - 1]?.offset);
    if (firstOffset > state.nextOffset && !(await this.claims.acceptGap(state, firstOffset))) return;

    const from = state.nextOffset;
    const records: InputRecord[] = messages
      .filter((message) => Number(message.offset) >= from)
      .map((message) => ({ offset: Number(message.offset), key: message.key, value: message.value }));
    if (records.length > 0) {
      const fresh = await this.committer.commit(state, records);
      if (!fresh) return;
      crashPoint('after-db-commit');
      await this.publisher.send(partition, fresh);
      // The partition's next batch write records this publish (one commit fewer per batch), or
      // its own UPDATE within a second if none comes (PartitionClaims.recordPublished). While
      // stopping, now: the next owner then has nothing to republish.
      if (this.running) {
        this.claims.recordPublished(state, lastOffset + 1);
      } else if (!(await this.claims.markPublished(state, lastOffset + 1))) {
        return;
      }
    }
    payload.resolveOffset(String(lastOffset));
    crashPoint('before-offset-commit');
    // A courtesy (PostgreSQL holds the position), sent with the others once per interval; while
    // stopping, at once, so the next owner starts where this one stopped.
    this.consumer.commitOffset(partition, lastOffset + 1, this.state === 'stopping');
    this.lag.report(partition, Number(batch.highWatermark) - state.nextOffset);
  }

  private async logOffsets(partition: number): Promise<{ low: number; high: number }> {
    if (!this.admin) throw new Error('worker not started');
    const offsets = await this.admin.fetchTopicOffsets(this.settings.messagesTopic);
    const entry = offsets.find((o) => o.partition === partition);
    if (!entry) throw new Error(`topic ${this.settings.messagesTopic} has no partition ${partition}`);
    return { low: Number(entry.low), high: Number(entry.high) };
  }

  private crash(error: SimulatedCrash): void {
    if (this.state === 'crashed') return;
    this.state = 'crashed';
    this.logger.error(`${error.message}; stopping as if the process died`);
    // Not awaited: the consumer waits for this very batch to return before it disconnects.
    void this.shutdown();
  }
}
