/**
 * ResilientConsumer's contract on @platformatic/kafka (KAFKA_CLIENT=platformatic); start, stop,
 * status and recreation with backoff are ConsumerLifecycle's, as for ResilientConsumer.
 *
 * @platformatic/kafka's high-level `consume()` stream pauses only as a whole, while the worker's
 * fence and the gateway's partition interest pause, resume and seek single partitions. So this
 * uses the library's group membership (`joinGroup`: JoinGroup/SyncGroup, background heartbeats,
 * rejoin on a rebalance, `consumer:group:join` with the assignment) and its low-level `fetch()`
 * with explicit offsets.
 *
 * Fetching and handling are apart, as in Kafka's Java consumer. Fetches are per broker, not per
 * partition: one request asks for every assigned partition that leader holds (not paused, start
 * offset known, less than PARTITION_MAX_BYTES buffered), including those whose batch is being
 * handled (a prefetch from after what was fetched), so at a steady rate one request answers for
 * many partitions and the broker's incremental fetch session (KIP-227) keeps the requests small.
 * Each partition then has its own handling loop, which takes what is buffered for it (up to
 * PARTITION_MAX_BYTES) as one batch: a partition whose batch is slow holds only itself, and no
 * kafkajs "fetch waves" (the next fetch only after every batch of the last one). One fetch per
 * broker is out at a time, on its own connection; a partition that becomes fetchable meanwhile
 * (resumed, moved by a seek, a batch left unresolved) joins the next, which is why the broker holds
 * a fetch at most MAX_POLL_WAIT_MS.
 *
 * Semantics kept from ResilientConsumer / kafkajs' eachBatch, which its users rely on:
 * - batches of one partition in offset order, never two of one partition at once; at most
 *   `partitionsConsumedConcurrently` (default 1) handlers at a time over all partitions;
 * - the next batch of a partition starts after the last resolved offset (`eachBatchAutoResolve`,
 *   default true, resolves the whole batch when the handler returns); an unresolved batch, or the
 *   unresolved rest of one, is fetched again (what was fetched after it is dropped);
 * - `seek` makes the batch in flight stale, drops what was fetched and the next fetch start at the
 *   offset; a paused partition is not fetched (what a fetch already out brings is kept, handed over
 *   on resume unless a seek drops it); pauses belong to the consumer of the moment (a recreated one
 *   starts unpaused, as with kafkajs);
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
/** kafkajs' defaults: 1 MiB per partition; also what a partition may hold fetched but not handled. */
const PARTITION_MAX_BYTES = 1_048_576;
/**
 * The longest a fetch waits at the broker for records. A partition that becomes fetchable while its
 * broker's fetch is out (resumed, moved by a seek, a batch left unresolved) joins the next one, so
 * this bounds how late it starts: the gateway resumes partitions as rooms gain subscribers, and at
 * 200 ms the 2,000-client restart storm's resume p99 was worse than with a loop per partition in 3
 * of 3 runs (at 50 ms, better in 3 of 4). An idle consumer sends one fetch per broker per interval:
 * 20/s, against 12/s for twelve per-partition loops at kafkajs' 1 s.
 */
const MAX_POLL_WAIT_MS = 50;
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

type FetchResponse = fetchV17.FetchResponse;
type PartitionResponse = FetchResponse['responses'][number]['partitions'][number];

/** Kafka's OFFSET_OUT_OF_RANGE error code. */
const OFFSET_OUT_OF_RANGE = 1;

/** The response a failed fetch still carries (partition errors: the other partitions' records are good). */
function responseOf(error: unknown): FetchResponse | undefined {
  for (const node of errorChain(error)) {
    const response = node['response'] as FetchResponse | undefined;
    if (response && Array.isArray(response.responses)) return response;
  }
  return undefined;
}

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/** This member's partitions per topic, in order. */
function sortedAssignment(payload: ConsumerGroupJoinPayload): Record<string, number[]> {
  const assignment: Record<string, number[]> = {};
  for (const { topic, partitions } of payload.assignments ?? [])
    assignment[topic] = [...partitions].sort((a, b) => a - b);
  return assignment;
}

/** A record's key and value bytes: what the per-partition buffer limit counts. */
function messageBytes(message: KafkaMessage): number {
  return (message.key?.length ?? 0) + (message.value?.length ?? 0);
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
  /** key(topic, partition), made once: the fetch path looks it up per partition on every pump. */
  key: string;
  /** Next offset to hand to the handler; undefined until resolved from the committed offset (or the reset policy). */
  position: bigint | undefined;
  /** Skip the committed offset when resolving `position` (it was out of range). */
  reset: boolean;
  seekTo: bigint | undefined;
  seeks: number;
  stopped: boolean;
  signal: Signal;
  done: Promise<void>;
  /** Next offset to fetch: `position` plus what is buffered (and the batch being handled); undefined: not fetchable yet. */
  fetchOffset: bigint | undefined;
  /** Fetched from `position` on (or from the end of the batch being handled), not handled yet. */
  buffered: KafkaMessage[];
  bufferedBytes: number;
  highWatermark: bigint;
  /** In a fetch that has not returned: never in two at once. */
  fetching: boolean;
  /** Bumped whenever what is buffered or in flight stops being wanted (seek, unresolved batch, rejoin). */
  fetchEpoch: number;
  /** The broker said the fetch offset is out of range: the loop resets the position. */
  outOfRange: boolean;
  fetchFailures: number;
  retryAt: number;
}

/** The connection to one broker for this consumer's fetches, one at a time. */
interface FetchLane {
  node: number;
  pool: ConnectionPool;
  busy: boolean;
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
  /** The current consumer's fetch connection per broker (node id). */
  private lanes = new Map<number, FetchLane>();
  private pumping = false;
  private pumpAgain = false;
  private retryTimer: NodeJS.Timeout | undefined;

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
    this.pump();
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
    // What was fetched from the old position is void; the loop fetches from the target.
    this.discardFetched(runner, undefined);
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
      maxWaitTime: Math.min(maxWaitTimeInMs ?? DEFAULT_MAX_WAIT_MS, MAX_POLL_WAIT_MS),
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
    // Revoked partitions stop; a partition kept through the rebalance keeps its loop and position
    // (what was fetched for the old generation is dropped, as its batches are).
    for (const [k, runner] of this.runners) {
      if (!wanted.has(k)) this.stopRunner(runner);
      else this.discardFetched(runner, runner.position);
    }
    for (const [topic, partitions] of Object.entries(assignment)) {
      for (const partition of partitions) {
        if (!this.runners.has(key(topic, partition))) this.startRunner(consumer, topic, partition);
      }
    }
    this.unsettled = wanted;
    this.fetchedSinceJoin = wanted.size === 0;
    this.pump();
  }

  protected firstFetchPending(): string | undefined {
    if (this.fetchedSinceJoin) return undefined;
    return `first fetch pending (${[...this.unsettled].map((k) => k.replace('\u0000', '[') + ']').join(', ')})`;
  }

  protected override membershipLost(): void {
    this.generation++;
    for (const runner of this.runners.values()) this.discardFetched(runner, runner.position);
  }

  /** The current consumer is unusable: abandon its membership and recreate it with backoff. */
  private crashed(consumer: Consumer, reason: string): void {
    this.abandonMembership();
    this.notMember(`crashed (${reason})`);
    this.stopAllRunners();
    this.recreateLater(consumer, reason);
    // No longer current: its events and loops are ignored from here on.
    this.consumer = undefined;
    this.closeLanes();
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
    const position = this.pendingSeeks.get(k);
    const runner: PartitionRunner = {
      topic,
      partition,
      key: k,
      position,
      reset: false,
      seekTo: undefined,
      seeks: 0,
      stopped: false,
      signal: new Signal(),
      done: Promise.resolve(),
      fetchOffset: position,
      buffered: [],
      bufferedBytes: 0,
      highWatermark: position ?? 0n,
      fetching: false,
      fetchEpoch: 0,
      outOfRange: false,
      fetchFailures: 0,
      retryAt: 0,
    };
    this.pendingSeeks.delete(k);
    this.runners.set(k, runner);
    runner.done = this.runPartition(consumer, runner);
  }

  private poolFactory: (() => ConnectionPool) | undefined;

  private stopRunner(runner: PartitionRunner): void {
    runner.stopped = true;
    runner.signal.notify();
    this.runners.delete(runner.key);
  }

  private stopAllRunners(): void {
    for (const runner of [...this.runners.values()]) this.stopRunner(runner);
  }

  private alive(runner: PartitionRunner): boolean {
    return !runner.stopped && this.running;
  }

  /**
   * Drops what was fetched for `runner` and not handled, and voids its fetch in flight; the next
   * fetch starts at `from` (undefined: not until the loop knows where).
   */
  private discardFetched(runner: PartitionRunner, from: bigint | undefined): void {
    runner.buffered = [];
    runner.bufferedBytes = 0;
    runner.fetchOffset = from;
    runner.fetchEpoch++;
    runner.signal.notify();
  }

  /** One partition's handling loop, until it is revoked or the consumer replaced or stopped. */
  private async runPartition(consumer: Consumer, runner: PartitionRunner): Promise<void> {
    let failures = 0;
    while (this.alive(runner)) {
      if (this.isMember && this.paused.has(runner.key)) this.settled(runner, this.generation);
      if (!this.isMember || this.paused.has(runner.key)) {
        await Promise.race([runner.signal.wait(), this.memberSignal.wait()]);
        continue;
      }
      if (runner.seekTo !== undefined) {
        runner.position = runner.seekTo;
        runner.seekTo = undefined;
        this.discardFetched(runner, runner.position);
      }
      if (runner.outOfRange) {
        runner.outOfRange = false;
        runner.position = undefined;
        runner.reset = true;
        this.discardFetched(runner, undefined);
      }
      if (runner.position === undefined) {
        try {
          runner.position = await this.startOffset(consumer, runner);
          runner.reset = false;
          this.discardFetched(runner, runner.position);
          failures = 0;
        } catch (error) {
          if (!this.alive(runner)) return;
          const delayMs = restartDelayMs(failures++, this.restartPolicy);
          this.options.logger.warn(
            `${this.options.name}: finding the start offset of ${runner.topic}[${runner.partition}] failed, again in ${delayMs} ms: ${describe(error)}`,
          );
          await runner.signal.wait(delayMs);
        }
        continue;
      }
      if (runner.fetchOffset === undefined) this.discardFetched(runner, runner.position);
      if (runner.buffered.length === 0) {
        this.pump();
        // Woken by records, a seek, a pause, a rejoin (discardFetched) or stop.
        await runner.signal.wait();
        continue;
      }
      const generation = this.generation;
      const seeks = runner.seeks;
      const messages = this.takeBatch(runner);
      const highWatermark = runner.highWatermark;
      // Room in the buffer again (it may have been full): the next fetch may include this partition.
      this.pump();
      await this.slots.acquire();
      try {
        if (this.alive(runner) && runner.seeks === seeks && generation === this.generation) {
          await this.handle(consumer, runner, messages, highWatermark, generation, seeks);
        }
      } catch (error) {
        if (this.alive(runner)) {
          // The batch is fetched again from the position (it was not resolved), after a backoff.
          this.discardFetched(runner, runner.position);
          const delayMs = restartDelayMs(failures++, this.restartPolicy);
          this.options.logger.warn(
            `${this.options.name}: handling a batch of ${runner.topic}[${runner.partition}] failed, again in ${delayMs} ms: ${describe(error)}`,
          );
          await runner.signal.wait(delayMs);
        }
        continue;
      } finally {
        this.slots.release();
      }
      failures = 0;
    }
  }

  /** What is buffered for `runner`, up to PARTITION_MAX_BYTES (a batch no larger than one fetch's). */
  private takeBatch(runner: PartitionRunner): KafkaMessage[] {
    if (runner.bufferedBytes <= PARTITION_MAX_BYTES) {
      const all = runner.buffered;
      runner.buffered = [];
      runner.bufferedBytes = 0;
      return all;
    }
    let bytes = 0;
    let count = 0;
    while (count < runner.buffered.length) {
      const next = messageBytes(runner.buffered[count]);
      // Never an empty batch: a record larger than the limit goes alone.
      if (count > 0 && bytes + next > PARTITION_MAX_BYTES) break;
      bytes += next;
      count++;
    }
    runner.bufferedBytes -= bytes;
    return runner.buffered.splice(0, count);
  }

  /**
   * The partition's start offset is resolved (a fetch from it completed) or it is paused: once every
   * assigned partition is, nothing produced from now on can be missed, and the consumer is ready.
   */
  private settled(runner: PartitionRunner, generation: number): void {
    if (generation !== this.generation || !this.isMember || this.fetchedSinceJoin) return;
    this.unsettled.delete(runner.key);
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

  private fetchable(runner: PartitionRunner, now: number): boolean {
    return (
      this.alive(runner) &&
      !runner.fetching &&
      runner.fetchOffset !== undefined &&
      runner.bufferedBytes < PARTITION_MAX_BYTES &&
      runner.retryAt <= now &&
      !this.paused.has(runner.key)
    );
  }

  /** Sends a fetch to each broker that leads a fetchable partition and has a free connection. */
  private pump(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    const consumer = this.consumer;
    if (!consumer || !this.isCurrent(consumer) || !this.isMember) return;
    if (!this.anyFetchable()) {
      this.retryLater();
      return;
    }
    this.pumping = true;
    this.pumpAgain = false;
    void this.sendFetches(consumer)
      .catch((error: unknown) => {
        // No metadata (the broker is gone: the heartbeat notices and recreates the consumer);
        // meanwhile the partitions waiting for a fetch back off as after a failed fetch.
        const waiting = [...this.runners.values()].filter((runner) => this.alive(runner) && !runner.fetching);
        if (waiting.length > 0) this.fetchFailed(waiting, error);
      })
      .finally(() => {
        this.pumping = false;
        if (this.pumpAgain) this.pump();
        else this.retryLater();
      });
  }

  /** Called about twice per batch: a plain loop, no array. */
  private anyFetchable(): boolean {
    const now = Date.now();
    for (const runner of this.runners.values()) if (this.fetchable(runner, now)) return true;
    return false;
  }

  /** Partitions held back after a failed fetch are asked for again when their backoff ends. */
  private retryLater(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const now = Date.now();
    let next = Infinity;
    for (const runner of this.runners.values()) {
      if (runner.retryAt > now && !runner.fetching) next = Math.min(next, runner.retryAt);
    }
    if (next === Infinity) return;
    this.retryTimer = setTimeout(() => this.pump(), next - now);
  }

  private async sendFetches(consumer: Consumer): Promise<void> {
    const metadata = await consumer.metadata({ topics: this.topics });
    if (!this.isCurrent(consumer) || !this.isMember) return;
    const now = Date.now();
    const byLeader = new Map<number, PartitionRunner[]>();
    for (const runner of this.runners.values()) {
      if (!this.fetchable(runner, now)) continue;
      const leader = metadata.topics.get(runner.topic)?.partitions[runner.partition]?.leader;
      if (leader === undefined) {
        this.fetchFailed([runner], new Error(`no metadata for ${runner.topic}[${runner.partition}]`));
        continue;
      }
      const group = byLeader.get(leader);
      if (group) group.push(runner);
      else byLeader.set(leader, [runner]);
    }
    const topicIds = new Map<string, string>();
    for (const topic of this.topics) {
      const id = metadata.topics.get(topic)?.id;
      if (id) topicIds.set(topic, id);
    }
    for (const [node, runners] of byLeader) {
      const lane = this.lane(node);
      // This broker's fetch is out: its partitions go with the next, when it returns.
      if (lane.busy) continue;
      void this.fetchFrom(consumer, lane, runners, topicIds);
    }
  }

  private lane(node: number): FetchLane {
    let lane = this.lanes.get(node);
    if (!lane) {
      // Set once the library is loaded (launch); the pools use the consumer's own connection options.
      if (!this.poolFactory) throw new Error('@platformatic/kafka not loaded');
      lane = { node, pool: this.poolFactory(), busy: false };
      this.lanes.set(node, lane);
    }
    return lane;
  }

  private closeLanes(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    for (const lane of this.lanes.values()) void lane.pool.close().catch(() => undefined);
    this.lanes.clear();
  }

  /** One fetch from one broker for `runners`; what comes back goes to their buffers. */
  private async fetchFrom(
    consumer: Consumer,
    lane: FetchLane,
    runners: PartitionRunner[],
    topicIds: Map<string, string>,
  ): Promise<void> {
    lane.busy = true;
    const generation = this.generation;
    const sent = runners.map((runner) => {
      runner.fetching = true;
      return { runner, offset: runner.fetchOffset as bigint, epoch: runner.fetchEpoch };
    });
    const byTopic = new Map<string, fetchV17.FetchRequestPartition[]>();
    for (const { runner, offset } of sent) {
      const topicId = topicIds.get(runner.topic) ?? '';
      const partitions = byTopic.get(topicId) ?? [];
      partitions.push({
        partition: runner.partition,
        fetchOffset: offset,
        partitionMaxBytes: PARTITION_MAX_BYTES,
        currentLeaderEpoch: -1,
        lastFetchedEpoch: -1,
      });
      byTopic.set(topicId, partitions);
    }
    let response: FetchResponse | undefined;
    let failure: unknown;
    try {
      response = await consumer.fetch({
        node: lane.node,
        // A fetch for a partition with none completed since the join answers at once: readiness
        // waits for it, and an idle partition's long poll must not hold that up.
        ...(sent.some(({ runner }) => this.unsettled.has(runner.key)) ? { maxWaitTime: 0 } : {}),
        connectionPool: lane.pool,
        topics: [...byTopic].map(([topicId, partitions]) => ({ topicId, partitions })),
      });
    } catch (error) {
      failure = error;
      // Partition errors fail the whole request; the response still holds the others' records.
      response = responseOf(error);
    } finally {
      lane.busy = false;
    }
    for (const { runner } of sent) runner.fetching = false;
    if (!this.isCurrent(consumer)) return;
    const parts = new Map<string, PartitionResponse>();
    for (const topicResponse of response?.responses ?? []) {
      for (const part of topicResponse.partitions) parts.set(key(topicResponse.topicId, part.partitionIndex), part);
    }
    const failed: PartitionRunner[] = [];
    for (const { runner, offset, epoch } of sent) {
      // Revoked, moved (seek), left unresolved or rejoined while the fetch was out: not wanted.
      if (!this.alive(runner) || runner.fetchEpoch !== epoch || generation !== this.generation) continue;
      const part = parts.get(key(topicIds.get(runner.topic) ?? '', runner.partition));
      if (part && part.errorCode === OFFSET_OUT_OF_RANGE) {
        this.options.logger.warn(
          `${this.options.name}: offset ${offset} of ${runner.topic}[${runner.partition}] is out of range; ` +
            `starting from the ${this.options.subscribe.fromBeginning ? 'earliest' : 'latest'} offset`,
        );
        runner.outOfRange = true;
        runner.fetchOffset = undefined;
        runner.signal.notify();
        continue;
      }
      if (failure !== undefined && (!response || !part || part.errorCode !== 0)) {
        failed.push(runner);
        continue;
      }
      runner.fetchFailures = 0;
      this.showedLife();
      this.settled(runner, generation);
      if (part) this.accept(runner, part, offset);
      runner.signal.notify();
    }
    if (failed.length > 0) this.fetchFailed(failed, failure);
    this.pump();
  }

  /** A fetch for `runners` failed: each is asked for again after its own backoff. */
  private fetchFailed(runners: PartitionRunner[], error: unknown): void {
    const now = Date.now();
    let delayMs = 0;
    for (const runner of runners) {
      delayMs = restartDelayMs(runner.fetchFailures++, this.restartPolicy);
      runner.retryAt = now + delayMs;
    }
    const names = runners.map((runner) => `${runner.topic}[${runner.partition}]`).join(', ');
    this.options.logger.warn(`${this.options.name}: fetching ${names} failed, again in ${delayMs} ms: ${describe(error)}`);
  }

  /** Buffers the records of `part` at or after `fetchOffset`, and moves the fetch offset past its last batch. */
  private accept(runner: PartitionRunner, part: PartitionResponse, fetchOffset: bigint): void {
    runner.highWatermark = part.highWatermark;
    let nextOffset = fetchOffset;
    for (const batch of part.records ?? []) {
      nextOffset = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n;
      if (batch.attributes & IS_CONTROL) continue;
      runner.bufferedBytes += this.appendMessages(runner.buffered, batch, fetchOffset);
    }
    if (nextOffset <= fetchOffset) return;
    runner.fetchOffset = nextOffset;
    // Only control records (or nothing) up to here: step over them, as a handled batch would.
    if (runner.buffered.length === 0 && runner.position === fetchOffset) runner.position = nextOffset;
  }

  /** Appends the records of `batch` at or after `fetchOffset`; returns their size in bytes. */
  private appendMessages(messages: KafkaMessage[], batch: RecordsBatch, fetchOffset: bigint): number {
    let bytes = 0;
    for (const record of batch.records) {
      const offset = batch.firstOffset + BigInt(record.offsetDelta);
      // A fetch returns whole batches: records before the requested offset were handled already.
      if (offset < fetchOffset) continue;
      const headers: Record<string, Buffer> = {};
      for (const [name, value] of record.headers) {
        if (name && value) headers[name.toString()] = value;
      }
      const message: KafkaMessage = {
        key: record.key,
        value: record.value,
        timestamp: String(batch.firstTimestamp + record.timestampDelta),
        attributes: record.attributes,
        offset: String(offset),
        headers,
      };
      bytes += messageBytes(message);
      messages.push(message);
    }
    return bytes;
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
    // (an unresolved batch, or the unresolved rest of one, is fetched again).
    if (runner.seeks !== seeks || runner.stopped) return;
    if (resolvedNext === undefined) {
      this.discardFetched(runner, runner.position);
      return;
    }
    runner.position = resolvedNext;
    const end = BigInt(lastOffset()) + 1n;
    // What was fetched meanwhile follows the batch, unless the batch was not all resolved or a
    // rejoin sent the fetch back to where the batch began.
    if (resolvedNext !== end || runner.fetchOffset === undefined || runner.fetchOffset < resolvedNext)
      this.discardFetched(runner, resolvedNext);
    if (run.autoCommit !== false) this.queueCommit(consumer, runner, resolvedNext);
  }

  /** Auto-commit: the latest position per partition, one commit request in flight at a time. */
  private queueCommit(consumer: Consumer, runner: PartitionRunner, offset: bigint): void {
    this.commits.set(runner.key, { topic: runner.topic, partition: runner.partition, offset });
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
    clearTimeout(this.retryTimer);
  }

  protected async leave(consumer: Consumer | undefined): Promise<void> {
    // The batches in flight finish (their handlers see isRunning() false), then the last commits,
    // then LeaveGroup: the others rebalance at once.
    await Promise.all(this.draining);
    await this.committing;
    // Fetches still out (long polls) are not waited for: nothing takes what they bring.
    this.closeLanes();
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
