/**
 * What a consumer group member does the same whichever client library carries it (ResilientConsumer
 * on kafkajs, PlatformaticConsumer on @platformatic/kafka): start in the background, stop once,
 * say honestly whether it is consuming, and recreate a consumer its client gave up on, with backoff,
 * as a new member whose abandoned predecessor a StaleMemberRemover takes out of the group. A
 * subclass connects its client, maps the client's events onto `joined` / `notMember` /
 * `showedLife` / `recreateLater`, and does the client-specific rest (fetching, pause, resume,
 * seek, commits).
 *
 * `start()` never waits for the group (so a service's HTTP port listens meanwhile) and never throws
 * for an unavailable broker.
 *
 * Group membership timing. Neither client here uses static membership (`group.instance.id`) nor the
 * KIP-848 consumer protocol (kafkajs 2.2.4 supports neither), and a recreated consumer is a new
 * member: a member that died without LeaveGroup (kill -9, broker restart) blocks the next
 * rebalance until its session times out. So the session timeout is what bounds take-over by
 * another process; the defaults (see DEFAULT_GROUP_TIMEOUTS) are the broker's minimum
 * (`group.min.session.timeout.ms`, 6 s by default) with a heartbeat every second. When it is this
 * process's own consumer that lost its membership (it crashed, and is restarted by its client or
 * recreated here), the old member id is known to be abandoned: the StaleMemberRemover sends
 * LeaveGroup for it, so the rejoin after a broker restart does not wait for that session either
 * (only for clients made by createKafka, whose settings it reuses).
 *
 * `status()` is "consuming" only while the consumer is a member of the group (joined since its
 * last rebalance, crash or stop), has completed a fetch started after that join (so its start
 * offsets are resolved: a consumer starting at the latest offset misses nothing produced after it
 * reports ready; what counts as that fetch is the client's `firstFetchPending`), and its client
 * showed life recently (a fetch or a heartbeat within `staleAfterMs`): a consumer waiting for a
 * rebalance, or cut off from the broker, is not.
 */
import type { ConsumerConfig, ConsumerRunConfig, ConsumerSubscribeTopics } from 'kafkajs';
import {
  CONSUMER_GROUP_TIMEOUT_DEFAULTS,
  type ConsumerGroupTimeouts,
  consumerGroupTimeoutProblems,
} from '@seqcast/config';
import type { KafkaSettings } from './kafka-client';
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

/** The options of a group member on either client (kafkajs' shapes, which both accept). */
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

/** The lifecycle of one group member over a client library's consumer (`Client`); see the file comment. */
export abstract class ConsumerLifecycle<Client> {
  protected readonly timeouts: GroupTimeouts;
  protected readonly restartPolicy: RestartBackoff;
  /** The client's consumer of the moment; a recreation replaces it. */
  protected consumer: Client | undefined;
  private readonly staleAfterMs: number;
  private readonly now: () => number;
  private state: 'new' | 'running' | 'stopped' = 'new';
  private restartTimer: NodeJS.Timeout | undefined;
  /** Recreations since the last join: what the next delay doubles from. */
  private restartsWithoutJoin = 0;
  private member = false;
  private assignment: Record<string, number[]> = {};
  private lastLife = 0;
  private problem = 'not started';
  private stopping: Promise<void> | undefined;
  /** Group and member id of the current consumer's membership, from its last join. */
  private membership: { groupId: string; memberId: string } | undefined;
  private readonly staleMembers: StaleMemberRemover | undefined;

  /** Without `settings` (a client not made by createKafka), abandoned members are left to expire. */
  constructor(
    protected readonly options: ResilientConsumerOptions,
    settings: KafkaSettings | undefined,
  ) {
    this.timeouts = options.timeouts ?? DEFAULT_GROUP_TIMEOUTS;
    const problems = groupTimeoutProblems(this.timeouts);
    if (problems.length > 0) throw new RangeError(`${options.name}: ${problems.join('; ')}`);
    this.restartPolicy = options.restart ?? DEFAULT_RESTART_BACKOFF;
    this.staleAfterMs = options.staleAfterMs ?? Math.max(10_000, 2 * this.timeouts.sessionTimeoutMs);
    this.now = options.now ?? Date.now;
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

  /** Leaves the group after the batches in flight; idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  status(): ConsumerStatus {
    const { name } = this.options;
    if (this.state !== 'running') return { consuming: false, reason: `${name} is ${this.state}`, assignment: {} };
    if (!this.member) return { consuming: false, reason: `${name}: ${this.problem}`, assignment: {} };
    const pending = this.firstFetchPending();
    if (pending !== undefined) {
      return { consuming: false, reason: `${name}: joined, ${pending}`, assignment: this.assignment };
    }
    const silentMs = this.now() - this.lastLife;
    if (silentMs > this.staleAfterMs) {
      return {
        consuming: false,
        reason: `${name}: no fetch or heartbeat for ${silentMs} ms`,
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

  /** Creates a consumer, makes it `this.consumer` and has it join the group. */
  protected abstract launch(): Promise<void>;

  /** `consumer` joined with `assignment` (partitions per topic): the client's own state for it. */
  protected abstract assigned(consumer: Client, assignment: Record<string, number[]>): void;

  /**
   * Why the joined member is not consuming yet: its first fetch since the join has not completed,
   * e.g. "first fetch pending". Undefined once it has.
   */
  protected abstract firstFetchPending(): string | undefined;

  /** Called after a recreation's backoff, before the new consumer is launched: let go of `failed`. */
  protected abstract retire(failed: Client): Promise<void>;

  /**
   * At stop(), once no removal of an abandoned member runs any more: let the batches in flight
   * finish, leave the group (LeaveGroup: the others rebalance at once), close the consumer.
   */
  protected abstract leave(consumer: Client | undefined): Promise<void>;

  /** At stop(), before anything is awaited: stop at once what must not go on. */
  protected halt(): void {
    // Nothing by default: a client whose leave() stops its own loops (kafkajs' disconnect) needs no more.
  }

  /** The member lost its membership (rebalance, crash, stop), before onLeave is told. */
  protected membershipLost(): void {
    // Nothing by default: only a client that keeps state per membership (batch generations) needs this.
  }

  protected get running(): boolean {
    return this.state === 'running';
  }

  protected get isMember(): boolean {
    return this.member;
  }

  /** Events and results of a consumer that was replaced, or of any after stop(), no longer count. */
  protected isCurrent(consumer: Client): boolean {
    return this.consumer === consumer && this.state === 'running';
  }

  /** A fetch or a heartbeat: the client is not cut off from the broker. */
  protected showedLife(): void {
    this.lastLife = this.now();
  }

  /** The current consumer joined its group as `membership.memberId`, with `assignment`. */
  protected joined(
    consumer: Client,
    { groupId, memberId }: { groupId: string; memberId: string },
    assignment: Record<string, number[]>,
  ): void {
    // An ordinary rebalance rejoins with the same member id; a recreated consumer gets a new one.
    this.membership = { groupId, memberId };
    this.staleMembers?.joined(memberId);
    this.member = true;
    this.lastLife = this.now();
    this.restartsWithoutJoin = 0;
    this.assignment = assignment;
    this.assigned(consumer, assignment);
    this.options.onJoin?.(assignment);
  }

  protected notMember(reason: string): void {
    const wasMember = this.member;
    this.member = false;
    this.problem = reason;
    this.assignment = {};
    this.membershipLost();
    if (wasMember) this.options.onLeave?.(reason);
  }

  /** The current membership will not be used again (the consumer crashed): remove it from the group. */
  protected abandonMembership(): void {
    const abandoned = this.membership;
    this.membership = undefined;
    if (abandoned) this.staleMembers?.remove(abandoned.groupId, abandoned.memberId);
  }

  /**
   * Replaces `failed` (the current consumer, which its client gave up on) after the backoff, unless
   * stop() comes first or a recreation is already scheduled.
   */
  protected recreateLater(failed: Client, reason: string): void {
    if (!this.isCurrent(failed) || this.restartTimer) return;
    const delayMs = restartDelayMs(this.restartsWithoutJoin++, this.restartPolicy);
    this.problem = `${reason}; recreating it in ${delayMs} ms`;
    this.options.logger.warn(`recreating the ${this.options.name} in ${delayMs} ms (${reason})`);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      void this.recreate(failed);
    }, delayMs);
  }

  private async recreate(failed: Client): Promise<void> {
    await this.retire(failed);
    if (this.state !== 'running') return;
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
    this.halt();
    // Before the consumer's own LeaveGroup: stopping is not a crash, and no removal may outlive stop().
    await this.staleMembers?.stop();
    await this.leave(consumer);
  }
}
