/**
 * A kafkajs consumer that never stays dead while its process lives, and says honestly whether it
 * is consuming.
 *
 * kafkajs restarts a consumer itself after retriable errors, but gives up for good ("crash" with
 * `restart: false`) on some it deems fatal, e.g. KafkaJSGroupCoordinatorNotFound while a broker
 * shuts down (tulios/kafkajs#1445, #1630), and `connect()`/`run()` simply throw while the broker is
 * unreachable at start-up. This wrapper recreates the consumer with backoff in all those cases, in
 * the background: `start()` never waits for the group (so a service's HTTP port listens meanwhile)
 * and never throws for an unavailable broker.
 *
 * Group membership timing. kafkajs 2.2.4 supports neither static membership (`group.instance.id`
 * is never sent in JoinGroup) nor the KIP-848 consumer protocol (no ConsumerGroupHeartbeat API),
 * and a consumer it restarts is a new member: a member that died without LeaveGroup (kill -9,
 * broker restart) blocks the next rebalance until its session times out. So the session timeout
 * is what bounds take-over by another process; the defaults (see DEFAULT_GROUP_TIMEOUTS) are the
 * broker's minimum (`group.min.session.timeout.ms`, 6 s by default) with a heartbeat every second.
 * When it is this process's own consumer that lost its membership (kafkajs crashed and restarts
 * it, or this wrapper recreates it), the old member id is known to be abandoned: a
 * StaleMemberRemover sends LeaveGroup for it, so the rejoin after a broker restart does not wait
 * for that session either (only for clients made by createKafka, whose settings it reuses).
 *
 * `status()` is "consuming" only while the consumer is a member of the group (joined since its
 * last rebalance, crash or stop), has completed a fetch started after that join (so its start
 * offsets are resolved: a consumer starting at the latest offset misses nothing produced after it
 * reports ready), and kafkajs showed life recently (a fetch or a heartbeat within `staleAfterMs`):
 * a consumer waiting for a rebalance, or cut off from the broker, is not.
 */
import type {
  Consumer,
  ConsumerConfig,
  ConsumerRunConfig,
  ConsumerSubscribeTopics,
  Kafka,
  TopicPartitionOffset,
  TopicPartitionOffsetAndMetadata,
  TopicPartitions,
} from 'kafkajs';
import {
  CONSUMER_GROUP_TIMEOUT_DEFAULTS,
  type ConsumerGroupTimeouts,
  consumerGroupTimeoutProblems,
} from '@seqcast/config';
import { kafkaSettingsOf } from './kafka-client';
import { StaleMemberRemover } from './stale-member-remover';

/**
 * Session / heartbeat / rebalance timeouts of a consumer group member, their defaults (6 s is the
 * broker's default `group.min.session.timeout.ms`: the fastest take-over it allows) and the rule
 * between them. Defined once in @seqcast/config, where the services validate their environment
 * with them; the consumer enforces the same rule.
 */
export type GroupTimeouts = ConsumerGroupTimeouts;
export const DEFAULT_GROUP_TIMEOUTS: GroupTimeouts = CONSUMER_GROUP_TIMEOUT_DEFAULTS;
export const groupTimeoutProblems: (timeouts: GroupTimeouts) => string[] = consumerGroupTimeoutProblems;

export interface ResilientConsumerLogger {
  log(message: string): void;
  warn(message: string): void;
}

export interface ResilientConsumerOptions {
  /** For log lines and readiness reasons, e.g. "events consumer". */
  name: string;
  /** kafkajs consumer settings; the group timeouts come from `timeouts`. */
  consumer: Omit<ConsumerConfig, 'sessionTimeout' | 'heartbeatInterval' | 'rebalanceTimeout'>;
  timeouts?: GroupTimeouts;
  subscribe: ConsumerSubscribeTopics;
  run: ConsumerRunConfig;
  /** Every group join of the current consumer, with this member's partitions per topic. */
  onJoin?: (assignment: Record<string, number[]>) => void;
  /** The current consumer stopped consuming (rebalance, crash, stop): assignments are void. */
  onLeave?: (reason: string) => void;
  logger: ResilientConsumerLogger;
  /** Recreation backoff: doubles from `initialDelayMs` up to `maxDelayMs`, reset on every join (DEFAULT_RESTART_BACKOFF). */
  restart?: RestartBackoff;
  /** No fetch nor heartbeat for this long: not consuming. Default: twice the session timeout, at least 10 s. */
  staleAfterMs?: number;
  now?: () => number;
}

export interface ConsumerStatus {
  consuming: boolean;
  /** Why not, when not consuming. */
  reason?: string;
  /** Partitions per topic of the last join (empty while not a member). */
  assignment: Record<string, number[]>;
}

export interface RestartBackoff {
  initialDelayMs: number;
  maxDelayMs: number;
}

/**
 * Recreation backoff. The cap bounds how late a consumer notices that the broker is back: it tries
 * again at most this long after the broker became reachable (a 10 s cap made deliveries resume up to
 * 10 s after a broker restart). An attempt against a broker that is still away costs one refused
 * connection, so a short cap is cheap.
 */
export const DEFAULT_RESTART_BACKOFF: RestartBackoff = { initialDelayMs: 500, maxDelayMs: 2_000 };

/**
 * How often the removal of an abandoned member is tried while the broker is away or its group
 * coordinator is loading: it bounds how long after the coordinator is ready the rejoin waits.
 */
const STALE_MEMBER_RETRY_MS = 250;

/** The delay before the recreation that follows `failures` consecutive ones without a join (0 first). */
export function restartDelayMs(failures: number, policy: RestartBackoff = DEFAULT_RESTART_BACKOFF): number {
  const doubled = policy.initialDelayMs * 2 ** Math.max(0, Math.min(failures, 30));
  return Math.min(doubled, policy.maxDelayMs);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class ResilientConsumer {
  private readonly timeouts: GroupTimeouts;
  private readonly restartPolicy: RestartBackoff;
  private readonly staleAfterMs: number;
  private readonly now: () => number;
  private state: 'new' | 'running' | 'stopped' = 'new';
  private consumer: Consumer | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  /** Recreations since the last join: what the next delay doubles from. */
  private restartsWithoutJoin = 0;
  private member = false;
  private fetchStartedSinceJoin = false;
  private fetchedSinceJoin = false;
  private assignment: Record<string, number[]> = {};
  private lastLife = 0;
  private problem = 'not started';
  private stopping: Promise<void> | undefined;
  /** Group and member id of the current consumer's membership, from its last join. */
  private membership: { groupId: string; memberId: string } | undefined;
  private readonly staleMembers: StaleMemberRemover | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: ResilientConsumerOptions,
  ) {
    this.timeouts = options.timeouts ?? DEFAULT_GROUP_TIMEOUTS;
    const problems = groupTimeoutProblems(this.timeouts);
    if (problems.length > 0) throw new RangeError(`${options.name}: ${problems.join('; ')}`);
    this.restartPolicy = options.restart ?? DEFAULT_RESTART_BACKOFF;
    this.staleAfterMs = options.staleAfterMs ?? Math.max(10_000, 2 * this.timeouts.sessionTimeoutMs);
    this.now = options.now ?? Date.now;
    const settings = kafkaSettingsOf(kafka);
    this.staleMembers = settings
      ? new StaleMemberRemover({
          settings,
          name: options.name,
          logger: options.logger,
          retryIntervalMs: STALE_MEMBER_RETRY_MS,
          giveUpAfterMs: 2 * this.timeouts.sessionTimeoutMs,
          now: this.now,
        })
      : undefined;
  }

  /** Starts consuming in the background; never throws for an unavailable broker. */
  start(): void {
    // A SIGTERM during start-up runs the shutdown hooks (stop) while Nest is still initialising, so
    // start can come after stop: the process is leaving, and the consumer stays down.
    if (this.state === 'stopped') return;
    if (this.state !== 'new') throw new Error(`${this.options.name} was already started`);
    this.state = 'running';
    this.problem = 'connecting to Kafka';
    void this.launch();
  }

  /** Leaves the group (after kafkajs finished the batches in flight); idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  status(): ConsumerStatus {
    if (this.state !== 'running')
      return { consuming: false, reason: `${this.options.name} is ${this.state}`, assignment: {} };
    if (!this.member) return { consuming: false, reason: `${this.options.name}: ${this.problem}`, assignment: {} };
    if (!this.fetchedSinceJoin) {
      return {
        consuming: false,
        reason: `${this.options.name}: joined, first fetch pending`,
        assignment: this.assignment,
      };
    }
    const silentMs = this.now() - this.lastLife;
    if (silentMs > this.staleAfterMs) {
      return {
        consuming: false,
        reason: `${this.options.name}: no fetch or heartbeat for ${silentMs} ms`,
        assignment: this.assignment,
      };
    }
    return { consuming: true, assignment: this.assignment };
  }

  /** Readiness: throws (with the reason) unless consuming. */
  assertConsuming(): void {
    const { consuming, reason } = this.status();
    if (!consuming) throw new Error(reason);
  }

  pause(topics: TopicPartitions[]): void {
    this.consumer?.pause(topics);
  }

  resume(topics: TopicPartitions[]): void {
    this.consumer?.resume(topics);
  }

  seek(entry: TopicPartitionOffset): void {
    this.consumer?.seek(entry);
  }

  async commitOffsets(offsets: TopicPartitionOffsetAndMetadata[]): Promise<void> {
    if (!this.consumer) throw new Error(`${this.options.name} has no consumer`);
    await this.consumer.commitOffsets(offsets);
  }

  private async launch(): Promise<void> {
    const consumer = this.kafka.consumer({
      ...this.options.consumer,
      sessionTimeout: this.timeouts.sessionTimeoutMs,
      heartbeatInterval: this.timeouts.heartbeatIntervalMs,
      rebalanceTimeout: this.timeouts.rebalanceTimeoutMs,
    });
    this.consumer = consumer;
    this.watch(consumer);
    try {
      await consumer.connect();
      await consumer.subscribe(this.options.subscribe);
      // Resolves once the first join completed, or after kafkajs handled a failed one (CRASH).
      await consumer.run(this.options.run);
    } catch (error) {
      if (this.consumer !== consumer || this.state !== 'running') return;
      this.abandonMembership();
      this.notMember(`starting failed: ${describe(error)}`);
      this.scheduleRestart(consumer, `starting failed: ${describe(error)}`);
    }
  }

  private watch(consumer: Consumer): void {
    const current = () => this.consumer === consumer && this.state === 'running';
    const { GROUP_JOIN, FETCH, FETCH_START, HEARTBEAT, REBALANCING, STOP, CRASH } = consumer.events;
    consumer.on(GROUP_JOIN, ({ payload }) => {
      if (!current()) return;
      // An ordinary rebalance rejoins with the same member id; a restarted consumer gets a new one.
      this.membership = { groupId: payload.groupId, memberId: payload.memberId };
      this.staleMembers?.joined(payload.memberId);
      this.member = true;
      this.fetchStartedSinceJoin = false;
      this.fetchedSinceJoin = false;
      this.lastLife = this.now();
      this.restartsWithoutJoin = 0;
      this.assignment = payload.memberAssignment;
      this.options.onJoin?.(payload.memberAssignment);
    });
    const alive = () => {
      if (current()) this.lastLife = this.now();
    };
    consumer.on(FETCH_START, () => {
      if (!current()) return;
      alive();
      if (this.member) this.fetchStartedSinceJoin = true;
    });
    consumer.on(FETCH, () => {
      if (!current()) return;
      alive();
      if (this.fetchStartedSinceJoin) this.fetchedSinceJoin = true;
    });
    consumer.on(HEARTBEAT, alive);
    consumer.on(REBALANCING, () => {
      if (current()) this.notMember('rebalancing');
    });
    consumer.on(STOP, () => {
      if (current()) this.notMember('stopped');
    });
    consumer.on(CRASH, ({ payload }) => {
      if (!current()) return;
      const reason = describe(payload.error);
      // Restarted or recreated, the consumer rejoins as a new member: the current one is abandoned.
      this.abandonMembership();
      this.notMember(`crashed (${reason})${payload.restart ? '; kafkajs restarts it' : ''}`);
      // kafkajs restarts it itself (as a new member); rejoining is what status() waits for.
      if (payload.restart) return;
      this.options.logger.warn(`${this.options.name} crashed and kafkajs will not restart it: ${reason}`);
      this.scheduleRestart(consumer, `crashed: ${reason}`);
    });
  }

  /** The current membership will not be used again (the consumer crashed): remove it from the group. */
  private abandonMembership(): void {
    const abandoned = this.membership;
    this.membership = undefined;
    if (abandoned) this.staleMembers?.remove(abandoned.groupId, abandoned.memberId);
  }

  private notMember(reason: string): void {
    const wasMember = this.member;
    this.member = false;
    this.problem = reason;
    this.assignment = {};
    if (wasMember) this.options.onLeave?.(reason);
  }

  private scheduleRestart(failed: Consumer, reason: string): void {
    if (this.state !== 'running' || this.consumer !== failed || this.restartTimer) return;
    const delayMs = restartDelayMs(this.restartsWithoutJoin++, this.restartPolicy);
    this.problem = `${reason}; recreating it in ${delayMs} ms`;
    this.options.logger.warn(`recreating the ${this.options.name} in ${delayMs} ms (${reason})`);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      void this.recreate(failed);
    }, delayMs);
  }

  private async recreate(failed: Consumer): Promise<void> {
    await failed.disconnect().catch(() => undefined);
    if (this.state !== 'running' || this.consumer !== failed) return;
    this.options.logger.log(`recreating the ${this.options.name}; it rejoins its group as a new member`);
    await this.launch();
  }

  private async shutdown(): Promise<void> {
    const wasRunning = this.state === 'running';
    this.state = 'stopped';
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const consumer = this.consumer;
    if (wasRunning) this.notMember('stopped');
    // Before the consumer's own LeaveGroup: stopping is not a crash, and no removal may outlive stop().
    await this.staleMembers?.stop();
    // disconnect() waits for the batches in flight, then sends LeaveGroup: the others rebalance at once.
    await consumer?.disconnect().catch((error: unknown) => {
      this.options.logger.warn(`${this.options.name} disconnect: ${describe(error)}`);
    });
  }
}
