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
 * Kafka offsets are committed after each batch only as a courtesy (faster restarts).
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
import type { Message } from '@seqcast/contracts';
import {
  type Admin,
  DEFAULT_GROUP_TIMEOUTS,
  type EachBatchPayload,
  fetchCommittedOffsets,
  fetchLogEndOffsets,
  type Kafka,
  ResilientConsumer,
  RoomProducer,
} from '@seqcast/kafka';
import { type DataSource, type PartitionClaim, SequencerStore } from '@seqcast/persistence';
import {
  type FaultContext,
  ORDERING_WORKER_SETTINGS,
  type OrderingWorkerSettings,
  WORKER_DATA_SOURCE,
  WORKER_FAULTS,
  WORKER_KAFKA,
  type WorkerFaults,
} from './ordering-worker.options';
import { crashPoint } from './fault-point';
import { decodeRecord, type InputRecord, lookupKeys, sequenceRecords } from './sequencer';
import { workerMetrics } from './worker.metrics';

const OUTBOX_PAGE = 500;
const DEFAULT_LAG_INTERVAL_MS = 5_000;

interface PartitionState {
  claim: PartitionClaim;
  nextOffset: number;
  /** Events of every message below this are on the events topic; PostgreSQL may lag by one batch. */
  publishedOffset: number;
  fenced: boolean;
  /** The last seek for a gap: if the log again starts at `landedAt`, those offsets do not exist. */
  lastSeek?: { to: number; landedAt: number };
}

/** A fault hook threw: behave like a process that died at that point. */
class SimulatedCrash extends Error {
  constructor(hook: string, cause: unknown) {
    super(`fault hook ${hook} threw: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'SimulatedCrash';
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

@Injectable()
export class OrderingWorkerService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('OrderingWorker');
  private readonly store: SequencerStore;
  private readonly producer: RoomProducer;
  private readonly faults: WorkerFaults;
  readonly owner: string;

  private state: 'idle' | 'starting' | 'running' | 'stopping' | 'stopped' | 'crashed' = 'idle';
  private consumer: ResilientConsumer | undefined;
  private admin: Admin | undefined;
  /** Bumped on every group join; a batch started under an older join must not act. */
  private joinCount = 0;
  private assigned = new Set<number>();
  private partitionStates = new Map<number, PartitionState>();
  private paused = new Set<number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private wakeSleepers = new Set<() => void>();
  private shuttingDown: Promise<void> | undefined;
  /** Batches between entering onBatch and returning from it (for the drain log line). */
  private batchesInFlight = 0;
  /** Last known position per assigned partition (claims and commits), for the lag gauge. */
  private positions = new Map<number, number>();
  private lagTimer: NodeJS.Timeout | undefined;
  private refreshingLag = false;

  constructor(
    @Inject(ORDERING_WORKER_SETTINGS) private readonly settings: OrderingWorkerSettings,
    @Inject(WORKER_KAFKA) private readonly kafka: Kafka,
    @Inject(WORKER_DATA_SOURCE) dataSource: DataSource,
    @Optional() @Inject(WORKER_FAULTS) faults?: WorkerFaults,
  ) {
    this.store = new SequencerStore(dataSource);
    this.producer = new RoomProducer(kafka, { partitions: settings.partitions });
    this.faults = faults ?? {};
    this.owner = settings.owner ?? `${hostname()}/${process.pid}/${randomBytes(3).toString('hex')}`;
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
    // Both reconnect by themselves later (RoomProducer on its next send, the admin on its next request).
    await this.producer.connect().catch((error: unknown) => {
      this.logger.warn(`Kafka producer not connected yet (retried on first publish): ${describe(error)}`);
    });
    this.admin = this.kafka.admin();
    await this.admin.connect().catch((error: unknown) => {
      this.logger.warn(`Kafka admin client not connected yet: ${describe(error)}`);
    });
    this.consumer = this.createConsumer();
    this.consumer.start();
    if (this.state === 'starting') this.state = 'running';
    const lagInterval = this.settings.lagIntervalMs ?? DEFAULT_LAG_INTERVAL_MS;
    this.lagTimer = setInterval(() => void this.refreshLag(), lagInterval);
    this.lagTimer.unref();
    this.logger.log(`worker ${this.owner} joining group ${groupId} to consume ${messagesTopic}`);
  }

  /**
   * Take-over speed is set by the group timeouts: a worker killed without LeaveGroup holds its
   * partitions until its session times out (see ResilientConsumer). Correctness does not depend on
   * them: every join invalidates every claim, and a zombie's commits are refused by the fence.
   */
  private createConsumer(): ResilientConsumer {
    const { messagesTopic, groupId } = this.settings;
    return new ResilientConsumer(this.kafka, {
      name: 'Kafka consumer',
      consumer: {
        groupId,
        allowAutoTopicCreation: false,
        // A drain waits for the fetch in flight; an idle long poll of kafkajs' default 5 s would hold
        // the partitions that long. At most one empty fetch per second per broker is the price.
        maxWaitTimeInMs: 1_000,
      },
      timeouts: {
        sessionTimeoutMs: this.settings.sessionTimeoutMs ?? DEFAULT_GROUP_TIMEOUTS.sessionTimeoutMs,
        heartbeatIntervalMs: this.settings.heartbeatIntervalMs ?? DEFAULT_GROUP_TIMEOUTS.heartbeatIntervalMs,
        rebalanceTimeoutMs: this.settings.rebalanceTimeoutMs ?? DEFAULT_GROUP_TIMEOUTS.rebalanceTimeoutMs,
      },
      subscribe: { topics: [messagesTopic], fromBeginning: true },
      run: {
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: this.settings.partitionsConsumedConcurrently,
        eachBatch: (payload) => this.onBatch(payload),
      },
      onJoin: (assignment) => this.onGroupJoin(assignment[messagesTopic] ?? []),
      logger: { log: (message) => this.logger.log(message), warn: (message) => this.logger.warn(message) },
    });
  }

  /** Partitions of the messages topic Kafka currently assigns to this worker, ascending. */
  get assignedPartitions(): number[] {
    return [...this.assigned].sort((a, b) => a - b);
  }

  /**
   * Readiness: throws unless this worker is a live member of its group (joined since its last
   * rebalance or crash, fetching or heartbeating); a worker waiting to rejoin consumes nothing.
   */
  assertConsuming(): void {
    if (!this.running) throw new Error(`worker is ${this.state}`);
    this.consumer?.assertConsuming();
  }

  /** Leaves the group after the batches in flight finish; idempotent. */
  async stop(): Promise<void> {
    if (this.state === 'idle' || this.state === 'stopped') return;
    const started = Date.now();
    if (this.state !== 'crashed') {
      this.state = 'stopping';
      this.logger.log(
        `worker ${this.owner} stopping: finishing ${this.batchesInFlight} batch(es) in flight, then leaving group ` +
          `${this.settings.groupId}`,
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
    this.timers.forEach((timer) => clearTimeout(timer));
    this.timers.clear();
    this.wakeSleepers.forEach((wake) => wake());
    clearInterval(this.lagTimer);
    // Waits for the batches in flight (eachBatch returns), then sends LeaveGroup.
    await this.consumer?.stop();
    await this.producer
      .disconnect()
      .catch((error: unknown) => this.logger.warn(`producer disconnect: ${describe(error)}`));
    await this.admin?.disconnect().catch((error: unknown) => this.logger.warn(`admin disconnect: ${describe(error)}`));
    // Whoever owns the partitions now reports their lag.
    this.forgetPartitions([...this.positions.keys(), ...this.assigned]);
    workerMetrics.assignedPartitions.set(0);
  }

  private onGroupJoin(partitions: number[]): void {
    this.joinCount++;
    const revoked = [...this.assigned].filter((partition) => !partitions.includes(partition));
    this.forgetPartitions(revoked);
    // Positions of partitions kept may have moved under another owner meanwhile: re-learn them.
    this.positions = new Map();
    this.assigned = new Set(partitions);
    workerMetrics.assignedPartitions.set(partitions.length);
    // Any rejoin invalidates every claim: each partition is claimed afresh on its next batch.
    this.partitionStates = new Map();
    this.timers.forEach((timer) => clearTimeout(timer));
    this.timers.clear();
    if (this.paused.size > 0 && this.consumer) {
      this.consumer.resume([{ topic: this.settings.messagesTopic, partitions: [...this.paused] }]);
      this.paused.clear();
    }
    const list = [...this.assigned].sort((a, b) => a - b).join(',') || 'none';
    this.logger.log(`joined group ${this.settings.groupId}: assigned partitions ${list}`);
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    this.batchesInFlight++;
    // kafkajs only heartbeats between batches. With a session of a few seconds, one slow
    // transaction or publish (up to the producer's 10 s deadline) would get this live worker evicted
    // and its partitions moved for nothing. A heartbeat refused because the group rebalances is left
    // to kafkajs, which sees it again on its own next heartbeat and rejoins.
    const keepAlive = setInterval(
      () => void payload.heartbeat().catch(() => undefined),
      this.settings.heartbeatIntervalMs ?? DEFAULT_GROUP_TIMEOUTS.heartbeatIntervalMs,
    );
    try {
      await this.runBatch(payload);
    } finally {
      clearInterval(keepAlive);
      this.batchesInFlight--;
    }
  }

  private async runBatch(payload: EachBatchPayload): Promise<void> {
    const join = this.joinCount;
    const { partition } = payload.batch;
    const current = () =>
      this.running &&
      payload.isRunning() &&
      !payload.isStale() &&
      join === this.joinCount &&
      this.assigned.has(partition);
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
        this.partitionStates.delete(partition);
        workerMetrics.batchFailures.inc();
        const delay = Math.min(
          (this.settings.retryInitialMs ?? 200) * 2 ** (attempt - 1),
          this.settings.retryMaxMs ?? 5_000,
        );
        this.logger.warn(
          `partition ${partition}: batch from offset ${payload.batch.firstOffset()} failed (attempt ${attempt}), ` +
            `retrying in ${delay} ms: ${describe(error)}`,
        );
        await this.sleep(delay);
        if (!current()) return;
        // Throws when the group is rebalancing: kafkajs then rejoins and redelivers the batch.
        await payload.heartbeat();
      }
    }
  }

  private async processBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const partition = batch.partition;
    const messages = batch.messages;
    if (messages.length === 0) return;
    const state = this.partitionStates.get(partition) ?? (await this.claim(partition));
    if (state.fenced) return;
    // Only after a claim or a failed publish: the outbox must be drained before anything newer.
    if (state.publishedOffset < state.nextOffset) await this.publishPending(state);
    if (state.fenced) return;

    const firstOffset = Number(messages[0]?.offset);
    const lastOffset = Number(messages[messages.length - 1]?.offset);
    if (firstOffset > state.nextOffset && !(await this.acceptGap(state, firstOffset))) return;

    const from = state.nextOffset;
    const records: InputRecord[] = messages
      .filter((message) => Number(message.offset) >= from)
      .map((message) => ({ offset: Number(message.offset), key: message.key, value: message.value }));
    if (records.length > 0) {
      const fresh = await this.sequenceAndCommit(state, records);
      if (!fresh) return;
      crashPoint('after-db-commit');
      await this.sendEvents(partition, fresh);
      // While more records wait, the next batch's write records this publish (one statement
      // fewer per batch); at the log end it is recorded now, so an idle partition is never behind.
      if (lastOffset + 1 < Number(batch.highWatermark)) {
        state.publishedOffset = Math.max(state.publishedOffset, lastOffset + 1);
      } else if (!(await this.markPublished(state, lastOffset + 1))) {
        return;
      }
    }
    payload.resolveOffset(String(lastOffset));
    crashPoint('before-offset-commit');
    await this.commitKafkaOffset(partition, lastOffset + 1);
    this.setLag(partition, Number(batch.highWatermark) - state.nextOffset);
  }

  /** Claims the partition in the current epoch, rotating the epoch if the input log was reset. */
  private async claim(partition: number): Promise<PartitionState> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const before = await this.logOffsets(partition);
      const claim = await this.store.claim({
        topic: this.settings.messagesTopic,
        partition,
        owner: this.owner,
        initialOffset: before.low,
      });
      // Read after the claim: nobody can advance the position any more, so a position beyond
      // this log end cannot be a batch another worker just committed.
      const after = await this.logOffsets(partition);
      if (claim.nextOffset > after.high) {
        const { epoch, rotated } = await this.store.rotateEpoch(claim.epoch);
        if (rotated) workerMetrics.epochRotations.inc();
        this.logger.warn(
          `partition ${partition}: stored position ${claim.nextOffset} is beyond the log end ${after.high} of ` +
            `${this.settings.messagesTopic}, so the input log was reset (topic recreated?): epoch ${claim.epoch} → ` +
            `${epoch}${rotated ? '' : ' (already rotated by another worker)'}; numbering restarts`,
        );
        // Our other claims belong to the old epoch and would only be fenced: re-claim them now.
        for (const [other, state] of this.partitionStates) {
          if (state.claim.epoch !== epoch) this.partitionStates.delete(other);
        }
        continue;
      }
      const state: PartitionState = {
        claim,
        nextOffset: claim.nextOffset,
        publishedOffset: claim.publishedOffset,
        fenced: false,
      };
      this.partitionStates.set(partition, state);
      this.logger.log(
        `claimed partition ${partition} gen ${claim.generation} from offset ${claim.nextOffset} (epoch ${claim.epoch})`,
      );
      if (claim.nextOffset < after.low) await this.skipVanished(state, after.low);
      this.positions.set(partition, state.nextOffset);
      this.setLag(partition, after.high - state.nextOffset);
      return state;
    }
    throw new Error(`partition ${partition}: log reset detected again right after rotating the epoch`);
  }

  private async logOffsets(partition: number): Promise<{ low: number; high: number }> {
    if (!this.admin) throw new Error('worker not started');
    const offsets = await this.admin.fetchTopicOffsets(this.settings.messagesTopic);
    const entry = offsets.find((o) => o.partition === partition);
    if (!entry) throw new Error(`topic ${this.settings.messagesTopic} has no partition ${partition}`);
    return { low: Number(entry.low), high: Number(entry.high) };
  }

  /** Records below the log start were deleted by retention before they were sequenced. */
  private async skipVanished(state: PartitionState, logStart: number): Promise<void> {
    if (!(await this.store.skipTo(state.claim, logStart))) {
      this.fence(state, 'position changed while skipping to the log start');
      return;
    }
    this.logger.warn(
      `partition ${state.claim.partition}: offsets ${state.nextOffset}-${logStart - 1} were deleted by retention ` +
        `before being sequenced; continuing at ${logStart}`,
    );
    state.nextOffset = logStart;
    this.positions.set(state.claim.partition, logStart);
  }

  /**
   * The batch starts above our position. Usually Kafka's committed offset is ahead of the stored
   * position (lost courtesy commit, restored database): seek back. If the same gap comes back right
   * after a seek, those offsets do not exist (retention, or non-data records) and are passed over.
   */
  private async acceptGap(state: PartitionState, firstOffset: number): Promise<boolean> {
    const { partition } = state.claim;
    const { low } = await this.logOffsets(partition);
    if (low > state.nextOffset) {
      await this.skipVanished(state, low);
      if (state.fenced) return false;
      if (firstOffset <= state.nextOffset) return true;
    }
    if (state.lastSeek && state.lastSeek.to === state.nextOffset && state.lastSeek.landedAt === firstOffset) {
      this.logger.warn(
        `partition ${partition}: offsets ${state.nextOffset}-${firstOffset - 1} hold no records; passing over them`,
      );
      return true;
    }
    this.logger.log(
      `partition ${partition}: batch starts at ${firstOffset}, position is ${state.nextOffset}; seeking back`,
    );
    state.lastSeek = { to: state.nextOffset, landedAt: firstOffset };
    this.consumer?.seek({ topic: this.settings.messagesTopic, partition, offset: String(state.nextOffset) });
    return false;
  }

  /** The fenced transaction; returns the new messages, or undefined when fenced. */
  private async sequenceAndCommit(state: PartitionState, records: InputRecord[]): Promise<Message[] | undefined> {
    const { claim } = state;
    const context = { partition: claim.partition, partitions: this.settings.partitions };
    const decoded = records.map((record) => decodeRecord(record, context));
    const firstOffset = records[0]?.offset ?? state.nextOffset;
    const lastOffset = records[records.length - 1]?.offset ?? state.nextOffset;
    const now = new Date();
    const { beforeCommit, afterCommit } = this.faults;
    const faultContext = (messages: Message[]): FaultContext => ({
      partition: claim.partition,
      firstOffset,
      lastOffset,
      messages,
    });
    const stopTimer = workerMetrics.batchDuration.startTimer();
    crashPoint('before-db-commit');
    const outcome = await this.store.commitBatch(claim, {
      fromOffset: state.nextOffset,
      nextOffset: lastOffset + 1,
      // Events up to here are on the topic (in memory until now, see processBatch).
      publishedOffset: state.publishedOffset,
      ...lookupKeys(decoded),
      sequence: (known) => sequenceRecords(decoded, { epoch: claim.epoch, now, known }),
      beforeCommit: beforeCommit && ((result) => runHook('beforeCommit', beforeCommit, faultContext(result.messages))),
    });
    if (outcome.status === 'fenced') {
      this.fence(state, outcome.reason);
      return undefined;
    }
    stopTimer();
    state.nextOffset = lastOffset + 1;
    this.positions.set(claim.partition, state.nextOffset);
    const { messages, duplicates, conflicts, deadLetters } = outcome.result;
    workerMetrics.sequencedMessages.inc(messages.length);
    workerMetrics.duplicatesDropped.inc(duplicates.length);
    workerMetrics.idempotencyConflicts.inc(conflicts.length);
    workerMetrics.deadLetters.inc(deadLetters.length);
    const line =
      `partition ${claim.partition} batch of ${records.length} (offsets ${firstOffset}-${lastOffset}): ` +
      `${messages.length} sequenced, ${duplicates.length} duplicates, ${deadLetters.length} dead-lettered`;
    if (deadLetters.length > 0) {
      this.logger.warn(`${line}; reasons: ${deadLetters.map((d) => `${d.offset}: ${d.reason}`).join('; ')}`);
    } else if (duplicates.length > 0) {
      this.logger.log(line);
    } else {
      // Routine batches are many; operators see them with LOG_LEVEL=debug.
      this.logger.debug(line);
    }
    if (afterCommit) await runHook('afterCommit', afterCommit, faultContext(messages));
    return messages;
  }

  /** The outbox: republish every stored message from `published_offset` on, in seq order. */
  private async publishPending(state: PartitionState): Promise<void> {
    const { claim } = state;
    const from = state.publishedOffset;
    let count = 0;
    for (;;) {
      const page = await this.store.findUnpublished(claim, state.publishedOffset, OUTBOX_PAGE);
      if (page.length === 0) break;
      await this.sendEvents(claim.partition, page);
      count += page.length;
      const last = page[page.length - 1];
      if (last && !(await this.markPublished(state, last.seq + 1))) return;
    }
    if (!(await this.markPublished(state, state.nextOffset))) return;
    if (count > 0) {
      workerMetrics.republishedMessages.inc(count);
      this.logger.log(
        `partition ${claim.partition}: republished ${count} stored messages from offset ${from} (outbox)`,
      );
    }
  }

  private async sendEvents(partition: number, messages: Message[]): Promise<void> {
    if (messages.length === 0) return;
    const stopTimer = workerMetrics.publishDuration.startTimer();
    await this.producer.sendToPartition(
      this.settings.eventsTopic,
      partition,
      messages.map((message) => ({ roomId: message.roomId, value: JSON.stringify(message) })),
    );
    stopTimer();
  }

  private async markPublished(state: PartitionState, offset: number): Promise<boolean> {
    if (!(await this.store.markPublished(state.claim, offset))) {
      this.fence(state, 'generation changed before the published position could be recorded');
      return false;
    }
    state.publishedOffset = Math.max(state.publishedOffset, offset);
    return true;
  }

  private async commitKafkaOffset(partition: number, offset: number): Promise<void> {
    try {
      await this.consumer?.commitOffsets([{ topic: this.settings.messagesTopic, partition, offset: String(offset) }]);
    } catch (error) {
      // A courtesy only: PostgreSQL holds the position that counts.
      this.logger.debug(`partition ${partition}: Kafka offset commit failed: ${describe(error)}`);
    }
  }

  private fence(state: PartitionState, reason: string): void {
    const { partition, generation } = state.claim;
    state.fenced = true;
    workerMetrics.fencedBatches.inc();
    if (this.partitionStates.get(partition) !== state) {
      // A batch from before the last rejoin: the current claim is someone else's business.
      this.logger.warn(`partition ${partition}: stale batch (gen ${generation}) refused: ${reason}`);
      return;
    }
    this.logger.warn(`partition ${partition} fenced (gen ${generation}): ${reason}; pausing it until re-claimed`);
    if (this.consumer && this.running) {
      this.consumer.pause([{ topic: this.settings.messagesTopic, partitions: [partition] }]);
      this.paused.add(partition);
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      // Still ours by Kafka's account (e.g. a stale claim by a worker that lost it): try again.
      if (this.partitionStates.get(partition) !== state || !this.running || !this.assigned.has(partition)) return;
      this.partitionStates.delete(partition);
      this.paused.delete(partition);
      this.consumer?.resume([{ topic: this.settings.messagesTopic, partitions: [partition] }]);
    }, this.settings.fencedPauseMs ?? 5_000);
    this.timers.add(timer);
  }

  private setLag(partition: number, lag: number): void {
    if (!this.assigned.has(partition) || !Number.isFinite(lag)) return;
    workerMetrics.consumerLag.set({ partition: String(partition) }, Math.max(0, lag));
  }

  private forgetPartitions(partitions: number[]): void {
    for (const partition of partitions) {
      this.positions.delete(partition);
      workerMetrics.consumerLag.remove({ partition: String(partition) });
    }
  }

  /**
   * The timer side of the lag gauge: partitions that receive no batches (idle, or stuck behind a
   * failing database) must still report. One offsets request per tick; the committed offset stands
   * in for the position of a partition not claimed since the last join.
   */
  private async refreshLag(): Promise<void> {
    if (!this.running || !this.admin || this.assigned.size === 0 || this.refreshingLag) return;
    this.refreshingLag = true;
    try {
      const { messagesTopic, groupId } = this.settings;
      const ends = await fetchLogEndOffsets(this.admin, messagesTopic);
      const unknown = [...this.assigned].filter((partition) => !this.positions.has(partition));
      const committed =
        unknown.length > 0 ? await fetchCommittedOffsets(this.admin, groupId, messagesTopic) : undefined;
      for (const partition of this.assigned) {
        const end = ends.get(partition);
        const position = this.positions.get(partition) ?? committed?.get(partition);
        if (end !== undefined && position !== undefined) this.setLag(partition, end - position);
      }
    } catch (error) {
      // The next tick tries again; readiness reports a Kafka that does not answer.
      this.logger.debug(`consumer lag refresh failed: ${describe(error)}`);
    } finally {
      this.refreshingLag = false;
    }
  }

  private crash(error: SimulatedCrash): void {
    if (this.state === 'crashed') return;
    this.state = 'crashed';
    this.logger.error(`${error.message}; stopping as if the process died`);
    // Not awaited: the consumer waits for this very batch to return before it disconnects.
    void this.shutdown();
  }

  /** Backoff that stop() cuts short. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.wakeSleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.wakeSleepers.add(wake);
    });
  }
}

async function runHook(name: string, hook: (context: FaultContext) => Promise<void>, context: FaultContext) {
  try {
    await hook(context);
  } catch (error) {
    throw new SimulatedCrash(name, error);
  }
}
