/**
 * ResilientConsumer's contract on @platformatic/kafka (KAFKA_CLIENT=platformatic); start, stop,
 * status and recreation with backoff are ConsumerLifecycle's, as for ResilientConsumer.
 *
 * @platformatic/kafka's high-level `consume()` stream pauses only as a whole, while the worker's
 * fence and the gateway's partition interest pause, resume and seek single partitions. So this
 * uses the library's group membership (`joinGroup`: JoinGroup/SyncGroup, background heartbeats,
 * rejoin on a rebalance, `consumer:group:join` with the assignment) and its low-level `fetch()`
 * with explicit offsets, and runs one fetch loop per assigned partition, each on its own
 * connection (a broker answers one request per connection at a time, and a long poll on an idle
 * partition must not delay a busy one). A partition whose batch is slow therefore holds only
 * itself: no kafkajs "fetch waves" (the next fetch only after every batch of the last one).
 *
 * Semantics kept from ResilientConsumer / kafkajs' eachBatch, which its users rely on:
 * - batches of one partition in offset order, never two of one partition at once; at most
 *   `partitionsConsumedConcurrently` (default 1) handlers at a time over all partitions;
 * - the next fetch of a partition starts after the last resolved offset (`eachBatchAutoResolve`,
 *   default true, resolves the whole batch when the handler returns); an unresolved batch is
 *   fetched again;
 * - `seek` makes the batch in flight stale and the next fetch start at the offset; a paused
 *   partition is not fetched; pauses belong to the consumer of the moment (a recreated one starts
 *   unpaused, as with kafkajs);
 * - start offsets: the group's committed offset, else earliest/latest by `fromBeginning`; an
 *   out-of-range offset falls back the same way;
 * - `autoCommit` (default true) commits the resolved position after each batch;
 * - `status()` as ResilientConsumer: consuming only while a member, after a fetch completed since
 *   the join (on every assigned partition that is not paused), with a fetch or heartbeat within
 *   `staleAfterMs`;
 * - a heartbeat that fails for any reason but a rebalance (broker gone, coordinator moved) or a
 *   rejoin that fails is a crash: the membership is abandoned (StaleMemberRemover sends its
 *   LeaveGroup once it can), and the consumer is recreated with backoff as a new member;
 * - the group protocol is kafkajs' (RoundRobinAssigner), so kafkajs and @platformatic/kafka members
 *   can be in one group.
 *
 * Heartbeats run on the library's own timer, independent of batches, so `payload.heartbeat()` only
 * reports whether the batch is still current (it throws once the group rebalanced or the consumer
 * was replaced, as kafkajs' does when the group is rebalancing).
 */
import type { ConnectionPool, Consumer, ConsumerGroupJoinPayload, fetchV17, RecordsBatch } from '@platformatic/kafka';
import type {
  Batch,
  EachBatchPayload,
  KafkaMessage,
  TopicPartitionOffset,
  TopicPartitionOffsetAndMetadata,
  TopicPartitions,
} from 'kafkajs';
import type { KafkaSettings } from './kafka-client';
import { loadPlatformaticKafka, platformaticBaseOptions } from './platformatic-client';
import { ConsumerLifecycle, type ResilientConsumerOptions, restartDelayMs } from './consumer-lifecycle';

const DEFAULT_MAX_WAIT_MS = 5_000;
/** kafkajs' defaults: 1 MiB per partition. */
const PARTITION_MAX_BYTES = 1_048_576;
const FETCH_MAX_BYTES = 10 * 1_048_576;
/** Record batch attribute: a control batch (transaction markers), never handed to the handler. */
const IS_CONTROL = 0b10_0000;
const EARLIEST = -2n;
const LATEST = -1n;

function describe(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    return `${error.message} (${error.errors.map(describe).join('; ')})`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** Every error in `error`'s chain (causes and aggregated errors). */
function errorChain(error: unknown, seen = new Set<unknown>()): Record<string, unknown>[] {
  if (typeof error !== 'object' || error === null || seen.has(error)) return [];
  seen.add(error);
  const node = error as Record<string, unknown>;
  const nested = [node['cause'], ...(Array.isArray(node['errors']) ? (node['errors'] as unknown[]) : [])];
  return [node, ...nested.flatMap((next) => errorChain(next, seen))];
}

function hasApiError(error: unknown, apiId: string): boolean {
  return errorChain(error).some((node) => node['apiId'] === apiId);
}

type FetchResponse = fetchV17.FetchResponse;

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/** This member's partitions per topic, in order. */
function sortedAssignment(payload: ConsumerGroupJoinPayload): Record<string, number[]> {
  const assignment: Record<string, number[]> = {};
  for (const { topic, partitions } of payload.assignments ?? [])
    assignment[topic] = [...partitions].sort((a, b) => a - b);
  return assignment;
}

/** A wake-up for a loop that waits for something to change (resume, seek, join, stop). */
class Signal {
  private waiters: Array<() => void> = [];

  wait(timeoutMs?: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = timeoutMs === undefined ? undefined : setTimeout(done, timeoutMs);
      const waiters = this.waiters;
      function done() {
        clearTimeout(timer);
        const index = waiters.indexOf(done);
        if (index >= 0) waiters.splice(index, 1);
        resolve();
      }
      waiters.push(done);
    });
  }

  notify(): void {
    this.waiters.splice(0).forEach((wake) => wake());
  }
}

/** At most `limit` holders at a time, served in arrival order. */
class Slots {
  private used = 0;
  private queue: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  async acquire(): Promise<void> {
    if (this.used < this.limit) {
      this.used++;
      return;
    }
    await new Promise<void>((resolve) => this.queue.push(resolve));
  }

  release(): void {
    const next = this.queue.shift();
    if (next) next();
    else this.used--;
  }
}

interface PartitionRunner {
  topic: string;
  partition: number;
  /** Next offset to fetch; undefined until resolved from the committed offset (or the reset policy). */
  position: bigint | undefined;
  /** Skip the committed offset when resolving `position` (it was out of range). */
  reset: boolean;
  seekTo: bigint | undefined;
  seeks: number;
  stopped: boolean;
  signal: Signal;
  pool: ConnectionPool;
  done: Promise<void>;
}

/** One member of a consumer group on @platformatic/kafka; see the file comment. */
export class PlatformaticConsumer extends ConsumerLifecycle<Consumer> {
  private readonly topics: string[];
  private readonly slots: Slots;
  /** Bumped on every join of the current consumer (and on losing it): batches of an older one are stale. */
  private generation = 0;
  private fetchedSinceJoin = false;
  private runners = new Map<string, PartitionRunner>();
  private paused = new Set<string>();
  private pendingSeeks = new Map<string, bigint>();
  private commits = new Map<string, { topic: string; partition: number; offset: bigint }>();
  private committing: Promise<void> | undefined;
  private readonly memberSignal = new Signal();
  /** Assigned partitions with no fetch completed (and not paused) since the join. */
  private unsettled = new Set<string>();
  /** What stop() waits for: the runners it stopped. */
  private draining: Array<Promise<void>> = [];

  constructor(
    private readonly settings: KafkaSettings,
    options: ResilientConsumerOptions,
  ) {
    super(options, settings);
    const topics = options.subscribe.topics;
    if (!topics.every((topic): topic is string => typeof topic === 'string')) {
      throw new TypeError(`${options.name}: subscribe by topic name only (no patterns) on @platformatic/kafka`);
    }
    if (!options.run.eachBatch && !options.run.eachMessage)
      throw new TypeError(`${options.name}: run needs eachBatch or eachMessage`);
    this.topics = topics;
    this.slots = new Slots(Math.max(1, options.run.partitionsConsumedConcurrently ?? 1));
  }

  pause(topics: TopicPartitions[]): void {
    for (const { topic, partitions } of topics) {
      for (const partition of partitions) this.paused.add(key(topic, partition));
    }
  }

  resume(topics: TopicPartitions[]): void {
    for (const { topic, partitions } of topics) {
      for (const partition of partitions) {
        const k = key(topic, partition);
        if (this.paused.delete(k)) this.runners.get(k)?.signal.notify();
      }
    }
  }

  seek({ topic, partition, offset }: TopicPartitionOffset): void {
    const k = key(topic, partition);
    const target = BigInt(offset);
    const runner = this.runners.get(k);
    if (!runner) {
      this.pendingSeeks.set(k, target);
      return;
    }
    runner.seekTo = target;
    runner.seeks++;
    runner.signal.notify();
  }

  async commitOffsets(offsets: TopicPartitionOffsetAndMetadata[]): Promise<void> {
    const consumer = this.consumer;
    if (!consumer) throw new Error(`${this.options.name} has no consumer`);
    await consumer.commit({
      offsets: offsets.map(({ topic, partition, offset }) => ({
        topic,
        partition,
        offset: BigInt(offset),
        leaderEpoch: -1,
      })),
    });
  }

  protected async launch(): Promise<void> {
    const { Consumer, ConnectionPool } = await loadPlatformaticKafka();
    if (!this.running) return;
    const { groupId, maxWaitTimeInMs } = this.options.consumer;
    const base = platformaticBaseOptions(this.settings);
    this.poolFactory = () => new ConnectionPool(base.clientId, base);
    const consumer = new Consumer({
      ...base,
      groupId,
      sessionTimeout: this.timeouts.sessionTimeoutMs,
      heartbeatInterval: this.timeouts.heartbeatIntervalMs,
      rebalanceTimeout: this.timeouts.rebalanceTimeoutMs,
      // kafkajs' protocol name and version (its RoundRobinAssigner; the subscription and assignment
      // encodings are Kafka's standard ones): members on either client can share a group, so
      // KAFKA_CLIENT can change in a rolling deploy.
      protocols: [{ name: 'RoundRobinAssigner', version: 0 }],
      autocommit: false,
      maxWaitTime: maxWaitTimeInMs ?? DEFAULT_MAX_WAIT_MS,
      maxBytes: FETCH_MAX_BYTES,
    });
    this.consumer = consumer;
    this.watch(consumer);
    consumer.topics.trackAll(...this.topics);
    try {
      await consumer.joinGroup({});
    } catch (error) {
      if (!this.isCurrent(consumer)) return;
      this.crashed(consumer, `joining the group failed: ${describe(error)}`);
    }
  }

  private watch(consumer: Consumer): void {
    consumer.on('consumer:group:join', (payload) => {
      if (!this.isCurrent(consumer)) return;
      this.joined(consumer, { groupId: payload.groupId, memberId: payload.memberId }, sortedAssignment(payload));
      this.memberSignal.notify();
    });
    consumer.on('consumer:group:rebalance', () => {
      if (this.isCurrent(consumer)) this.notMember('rebalancing');
    });
    consumer.on('consumer:heartbeat:end', () => {
      if (this.isCurrent(consumer)) this.showedLife();
    });
    // Not a rebalance (the library rejoins by itself then): the broker or coordinator is gone.
    consumer.on('consumer:heartbeat:error', ({ error }) => {
      if (this.isCurrent(consumer)) this.crashed(consumer, `heartbeat failed: ${describe(error)}`);
    });
    // A failed rejoin after a rebalance; the library schedules no further heartbeats.
    consumer.on('error', (error: unknown) => {
      if (this.isCurrent(consumer)) this.crashed(consumer, describe(error));
    });
  }

  protected assigned(consumer: Consumer, assignment: Record<string, number[]>): void {
    this.generation++;
    const wanted = new Set(
      Object.entries(assignment).flatMap(([topic, partitions]) => partitions.map((p) => key(topic, p))),
    );
    // Revoked partitions stop; a partition kept through the rebalance keeps its loop and position.
    for (const [k, runner] of this.runners) {
      if (!wanted.has(k)) this.stopRunner(runner);
    }
    for (const [topic, partitions] of Object.entries(assignment)) {
      for (const partition of partitions) {
        if (!this.runners.has(key(topic, partition))) this.startRunner(consumer, topic, partition);
      }
    }
    this.unsettled = wanted;
    this.fetchedSinceJoin = wanted.size === 0;
  }

  protected firstFetchPending(): string | undefined {
    if (this.fetchedSinceJoin) return undefined;
    return `first fetch pending (${[...this.unsettled].map((k) => k.replace('\u0000', '[') + ']').join(', ')})`;
  }

  protected override membershipLost(): void {
    this.generation++;
  }

  /** The current consumer is unusable: abandon its membership and recreate it with backoff. */
  private crashed(consumer: Consumer, reason: string): void {
    this.abandonMembership();
    this.notMember(`crashed (${reason})`);
    this.stopAllRunners();
    this.recreateLater(consumer, reason);
    // No longer current: its events and loops are ignored from here on.
    this.consumer = undefined;
    void consumer.close(true).catch(() => undefined);
  }

  /** The consumer was closed when it crashed; pauses and seeks were its own. */
  protected async retire(): Promise<void> {
    // A new consumer starts unpaused and from the committed offsets, as a recreated kafkajs one.
    this.paused.clear();
    this.pendingSeeks.clear();
  }

  private startRunner(consumer: Consumer, topic: string, partition: number): void {
    const k = key(topic, partition);
    const runner: PartitionRunner = {
      topic,
      partition,
      position: this.pendingSeeks.get(k),
      reset: false,
      seekTo: undefined,
      seeks: 0,
      stopped: false,
      signal: new Signal(),
      pool: this.connectionPool(),
      done: Promise.resolve(),
    };
    this.pendingSeeks.delete(k);
    this.runners.set(k, runner);
    runner.done = this.runPartition(consumer, runner).finally(() => {
      void runner.pool.close().catch(() => undefined);
    });
  }

  private connectionPool(): ConnectionPool {
    // Set once the library is loaded (launch); the pools use the consumer's own connection options.
    if (!this.poolFactory) throw new Error('@platformatic/kafka not loaded');
    return this.poolFactory();
  }

  private poolFactory: (() => ConnectionPool) | undefined;

  private stopRunner(runner: PartitionRunner): void {
    runner.stopped = true;
    runner.signal.notify();
    this.runners.delete(key(runner.topic, runner.partition));
  }

  private stopAllRunners(): void {
    for (const runner of [...this.runners.values()]) this.stopRunner(runner);
  }

  private alive(runner: PartitionRunner): boolean {
    return !runner.stopped && this.running;
  }

  /** One partition's fetch → handle loop, until it is revoked or the consumer replaced or stopped. */
  private async runPartition(consumer: Consumer, runner: PartitionRunner): Promise<void> {
    let failures = 0;
    const backoff = async (what: string, error: unknown) => {
      const delayMs = restartDelayMs(failures++, this.restartPolicy);
      this.options.logger.warn(
        `${this.options.name}: ${what} ${runner.topic}[${runner.partition}] failed, again in ${delayMs} ms: ${describe(error)}`,
      );
      await runner.signal.wait(delayMs);
    };
    while (this.alive(runner)) {
      if (this.isMember && this.paused.has(key(runner.topic, runner.partition))) this.settled(runner, this.generation);
      if (!this.isMember || this.paused.has(key(runner.topic, runner.partition))) {
        await Promise.race([runner.signal.wait(), this.memberSignal.wait()]);
        continue;
      }
      if (runner.seekTo !== undefined) {
        runner.position = runner.seekTo;
        runner.seekTo = undefined;
      }
      if (runner.position === undefined) {
        try {
          runner.position = await this.startOffset(consumer, runner);
          runner.reset = false;
        } catch (error) {
          if (this.alive(runner)) await backoff('finding the start offset of', error);
        }
        continue;
      }
      const generation = this.generation;
      const seeks = runner.seeks;
      const fetchOffset = runner.position;
      let response: FetchResponse;
      try {
        response = await this.fetchPartition(consumer, runner, fetchOffset);
      } catch (error) {
        if (!this.alive(runner)) return;
        if (hasApiError(error, 'OFFSET_OUT_OF_RANGE')) {
          this.options.logger.warn(
            `${this.options.name}: offset ${fetchOffset} of ${runner.topic}[${runner.partition}] is out of range; ` +
              `starting from the ${this.options.subscribe.fromBeginning ? 'earliest' : 'latest'} offset`,
          );
          if (runner.position === fetchOffset && runner.seeks === seeks) {
            runner.position = undefined;
            runner.reset = true;
          }
          continue;
        }
        await backoff('fetching', error);
        continue;
      }
      failures = 0;
      if (!this.alive(runner)) return;
      this.showedLife();
      this.settled(runner, generation);
      // Moved (seek), paused or rejoined while the fetch was out: what it brought may not be wanted.
      if (
        runner.seeks !== seeks ||
        generation !== this.generation ||
        this.paused.has(key(runner.topic, runner.partition))
      )
        continue;
      const { messages, nextOffset, highWatermark } = this.decode(runner, response, fetchOffset);
      if (messages.length === 0) {
        // Only control records (or nothing): step over them.
        if (nextOffset > fetchOffset) runner.position = nextOffset;
        continue;
      }
      await this.slots.acquire();
      try {
        if (this.alive(runner) && runner.seeks === seeks && generation === this.generation) {
          await this.handle(consumer, runner, messages, highWatermark, generation, seeks);
        }
      } catch (error) {
        if (this.alive(runner)) await backoff('handling a batch of', error);
      } finally {
        this.slots.release();
      }
    }
  }

  /**
   * The partition's start offset is resolved (a fetch from it completed) or it is paused: once every
   * assigned partition is, nothing produced from now on can be missed, and the consumer is ready.
   */
  private settled(runner: PartitionRunner, generation: number): void {
    if (generation !== this.generation || !this.isMember || this.fetchedSinceJoin) return;
    this.unsettled.delete(key(runner.topic, runner.partition));
    if (this.unsettled.size === 0) this.fetchedSinceJoin = true;
  }

  private async startOffset(consumer: Consumer, runner: PartitionRunner): Promise<bigint> {
    const { topic, partition } = runner;
    if (!runner.reset) {
      const committed = await consumer.listCommittedOffsets({ topics: [{ topic, partitions: [partition] }] });
      const offset = committed.get(topic)?.[partition];
      if (typeof offset === 'bigint' && offset >= 0n) return offset;
    }
    const timestamp = this.options.subscribe.fromBeginning ? EARLIEST : LATEST;
    const offsets = await consumer.listOffsets({ topics: [topic], partitions: { [topic]: [partition] }, timestamp });
    const offset = offsets.get(topic)?.[partition];
    if (typeof offset !== 'bigint' || offset < 0n)
      throw new Error(`no ${timestamp === EARLIEST ? 'earliest' : 'latest'} offset for ${topic}[${partition}]`);
    return offset;
  }

  private async fetchPartition(
    consumer: Consumer,
    runner: PartitionRunner,
    fetchOffset: bigint,
  ): Promise<FetchResponse> {
    const { topic, partition } = runner;
    const metadata = await consumer.metadata({ topics: [topic] });
    const topicMetadata = metadata.topics.get(topic);
    const leader = topicMetadata?.partitions[partition]?.leader;
    if (!topicMetadata || leader === undefined) throw new Error(`no metadata for ${topic}[${partition}]`);
    return consumer.fetch({
      node: leader,
      // The first fetch since the join answers at once: it is what readiness waits for, and an idle
      // partition's long poll must not hold that up (kafkajs' one fetch for all partitions returns
      // with the first partition that has data).
      ...(this.unsettled.has(key(topic, partition)) ? { maxWaitTime: 0 } : {}),
      connectionPool: runner.pool,
      topics: [
        {
          topicId: topicMetadata.id,
          partitions: [
            {
              partition,
              fetchOffset,
              partitionMaxBytes: PARTITION_MAX_BYTES,
              currentLeaderEpoch: -1,
              lastFetchedEpoch: -1,
            },
          ],
        },
      ],
    });
  }

  /** The records of `runner`'s partition at or after `fetchOffset`, and the offset after the last batch. */
  private decode(
    runner: PartitionRunner,
    response: FetchResponse,
    fetchOffset: bigint,
  ): { messages: KafkaMessage[]; nextOffset: bigint; highWatermark: bigint } {
    const messages: KafkaMessage[] = [];
    let nextOffset = fetchOffset;
    let highWatermark = fetchOffset;
    for (const topicResponse of response.responses) {
      for (const partitionResponse of topicResponse.partitions) {
        if (partitionResponse.partitionIndex !== runner.partition) continue;
        highWatermark = partitionResponse.highWatermark;
        for (const batch of partitionResponse.records ?? []) {
          nextOffset = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n;
          if (batch.attributes & IS_CONTROL) continue;
          this.appendMessages(messages, batch, fetchOffset);
        }
      }
    }
    return { messages, nextOffset, highWatermark };
  }

  private appendMessages(messages: KafkaMessage[], batch: RecordsBatch, fetchOffset: bigint): void {
    for (const record of batch.records) {
      const offset = batch.firstOffset + BigInt(record.offsetDelta);
      // A fetch returns whole batches: records before the requested offset were handled already.
      if (offset < fetchOffset) continue;
      const headers: Record<string, Buffer> = {};
      for (const [name, value] of record.headers) {
        if (name && value) headers[name.toString()] = value;
      }
      messages.push({
        key: record.key,
        value: record.value,
        timestamp: String(batch.firstTimestamp + record.timestampDelta),
        attributes: record.attributes,
        offset: String(offset),
        headers,
      });
    }
  }

  /** Calls the handler with a kafkajs-shaped payload; moves the position by what it resolved. */
  private async handle(
    consumer: Consumer,
    runner: PartitionRunner,
    messages: KafkaMessage[],
    highWatermark: bigint,
    generation: number,
    seeks: number,
  ): Promise<void> {
    const { topic, partition } = runner;
    const { run } = this.options;
    let resolvedNext: bigint | undefined;
    const isRunning = () => this.alive(runner) && this.isCurrent(consumer);
    const isStale = () =>
      runner.stopped || runner.seeks !== seeks || generation !== this.generation || !this.isCurrent(consumer);
    const lastOffset = () => messages[messages.length - 1]?.offset ?? String(highWatermark - 1n);
    const batch: Batch = {
      topic,
      partition,
      highWatermark: String(highWatermark),
      messages,
      isEmpty: () => messages.length === 0,
      firstOffset: () => messages[0]?.offset ?? null,
      lastOffset,
      offsetLag: () => String(highWatermark - 1n - BigInt(lastOffset())),
      offsetLagLow: () => String(highWatermark - 1n - BigInt(messages[0]?.offset ?? lastOffset())),
    };
    const heartbeat = async () => {
      if (isStale())
        throw new Error(`${this.options.name}: the group rebalanced or the partition moved; batch abandoned`);
    };
    const pause = () => {
      this.pause([{ topic, partitions: [partition] }]);
      return () => this.resume([{ topic, partitions: [partition] }]);
    };
    const payload: EachBatchPayload = {
      batch,
      resolveOffset: (offset) => {
        resolvedNext = BigInt(offset) + 1n;
      },
      heartbeat,
      pause,
      commitOffsetsIfNecessary: async () => {
        if (resolvedNext !== undefined) await this.commitNow(consumer, runner, resolvedNext);
      },
      uncommittedOffsets: () => ({ topics: [] }),
      isRunning,
      isStale,
    };
    if (run.eachBatch) {
      await run.eachBatch(payload);
      if (run.eachBatchAutoResolve !== false && !isStale()) resolvedNext = BigInt(lastOffset()) + 1n;
    } else if (run.eachMessage) {
      for (const message of messages) {
        if (!isRunning() || isStale()) break;
        await run.eachMessage({ topic, partition, message, heartbeat, pause });
        resolvedNext = BigInt(message.offset) + 1n;
      }
    }
    // After a seek the next fetch starts at the seek's offset; otherwise after what was resolved
    // (an unresolved batch is fetched again).
    if (runner.seeks !== seeks || runner.stopped || resolvedNext === undefined) return;
    runner.position = resolvedNext;
    if (run.autoCommit !== false) this.queueCommit(consumer, runner, resolvedNext);
  }

  /** Auto-commit: the latest position per partition, one commit request in flight at a time. */
  private queueCommit(consumer: Consumer, runner: PartitionRunner, offset: bigint): void {
    this.commits.set(key(runner.topic, runner.partition), { topic: runner.topic, partition: runner.partition, offset });
    if (this.committing) return;
    this.committing = (async () => {
      while (this.commits.size > 0 && this.consumer === consumer) {
        const offsets = [...this.commits.values()].map((entry) => ({ ...entry, leaderEpoch: -1 }));
        this.commits.clear();
        await consumer.commit({ offsets }).catch((error: unknown) => {
          this.options.logger.warn(`${this.options.name}: offset commit failed: ${describe(error)}`);
        });
      }
      this.commits.clear();
      this.committing = undefined;
    })();
  }

  private async commitNow(consumer: Consumer, runner: PartitionRunner, offset: bigint): Promise<void> {
    await consumer.commit({ offsets: [{ topic: runner.topic, partition: runner.partition, offset, leaderEpoch: -1 }] });
  }

  protected override halt(): void {
    this.draining = [...this.runners.values()].map((runner) => runner.done);
    this.stopAllRunners();
    this.memberSignal.notify();
  }

  protected async leave(consumer: Consumer | undefined): Promise<void> {
    // The batches in flight finish (their handlers see isRunning() false), then the last commits,
    // then LeaveGroup: the others rebalance at once.
    await Promise.all(this.draining);
    await this.committing;
    if (!consumer) return;
    try {
      await consumer.leaveGroup(true);
    } catch (error) {
      this.options.logger.warn(`${this.options.name} leaving the group: ${describe(error)}`);
    }
    await consumer.close(true).catch((error: unknown) => {
      this.options.logger.warn(`${this.options.name} close: ${describe(error)}`);
    });
  }
}
