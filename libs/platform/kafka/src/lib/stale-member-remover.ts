/**
 * Removes a consumer's own abandoned group member from its group, so that the member it rejoins as
 * does not wait for the abandoned one's session to expire.
 *
 * Why. kafkajs 2.2.4 rejoins as a *new* member whenever it restarts a consumer (its crash handler
 * builds a new ConsumerGroup with no member id) and has no static membership. When the LeaveGroup
 * of the old member did not get through (the broker was down, or killed), the coordinator keeps
 * that member: after a broker restart it reloads the group with it and completes the new member's
 * JoinGroup only once the old member's session expired (the session timeout, 6 s by default,
 * counted from the group's load). A LeaveGroup naming the old member id ends that wait at once.
 * kafkajs can only send LeaveGroup for the member it currently is, so this uses the Admin of
 * @platformatic/kafka (`removeMembersFromConsumerGroup`: FindCoordinator, then LeaveGroup with
 * the given member ids), over the same brokers, TLS and SASL as the kafkajs client.
 *
 * The admin client is loaded and connected only while a removal runs (a rare event: a consumer
 * crash), and closed when it ends.
 */
import type { Admin, ConnectionOptions, SASLOptions } from '@platformatic/kafka';
import type { KafkaSasl, KafkaSettings } from './kafka-client';

export interface StaleMemberLogger {
  log(message: string): void;
  warn(message: string): void;
}

/** How a removal ended. */
export type StaleMemberOutcome =
  /** The coordinator removed the member on our LeaveGroup. */
  | 'removed'
  /** The coordinator did not know it (it left, expired, or the group is gone). */
  | 'already gone'
  /** Our consumer joined again before the removal got through: the join evicted the old member. */
  | 'superseded'
  /** The broker answered for longer than `giveUpAfterMs` without removing it. */
  | 'gave up'
  | 'stopped';

export interface StaleMemberRemoverOptions {
  /** Brokers, client id and security of the kafkajs client whose member this removes. */
  settings: KafkaSettings;
  /** For log lines, e.g. "events consumer". */
  name: string;
  logger: StaleMemberLogger;
  /** Pause between attempts while the broker is unreachable or the coordinator not ready. */
  retryIntervalMs: number;
  /**
   * Give up this long after the broker first answered. The coordinator expires the member itself
   * one session timeout after loading the group, so twice the session timeout is plenty; while the
   * broker is unreachable the clock does not run (the member's session has not started expiring).
   */
  giveUpAfterMs: number;
  /** Each removal's outcome, once. */
  onSettled?: (groupId: string, memberId: string, outcome: StaleMemberOutcome) => void;
  now?: () => number;
}

/** What a failed removal attempt says about the next one. */
export type RemovalFailure =
  /** UNKNOWN_MEMBER_ID / GROUP_ID_NOT_FOUND: nothing left to remove. */
  | 'gone'
  /** A broker answered (coordinator loading or moving, ...): the group is there, try again. */
  | 'answered'
  /** No broker answered (connection refused, timeout): try again. */
  | 'unreachable';

const GONE = new Set(['UNKNOWN_MEMBER_ID', 'GROUP_ID_NOT_FOUND']);

/** Every error in a @platformatic/kafka error chain (MultipleErrors nest theirs in `errors`). */
function errorChain(error: unknown, seen = new Set<unknown>()): Record<string, unknown>[] {
  if (typeof error !== 'object' || error === null || seen.has(error)) return [];
  seen.add(error);
  const node = error as Record<string, unknown>;
  const nested = Array.isArray(node['errors']) ? (node['errors'] as unknown[]) : [];
  return [node, ...nested.flatMap((inner) => errorChain(inner, seen)), ...errorChain(node['cause'], seen)];
}

/** Classifies the error of one `removeMembersFromConsumerGroup` attempt. */
export function classifyRemovalFailure(error: unknown): RemovalFailure {
  const apiIds = errorChain(error)
    .map((node) => node['apiId'])
    .filter((id): id is string => typeof id === 'string');
  if (apiIds.some((id) => GONE.has(id))) return 'gone';
  // A protocol error code or a failed SASL handshake can only come from a broker that answered.
  const answered = errorChain(error).some(
    (node) => node['code'] === 'PLT_KFK_PROTOCOL' || node['code'] === 'PLT_KFK_AUTHENTICATION',
  );
  return answered || apiIds.length > 0 ? 'answered' : 'unreachable';
}

/** What follows a failed attempt, and since when a broker has been answering (the give-up clock). */
export function afterFailedAttempt(
  failure: RemovalFailure,
  answeredAt: number | undefined,
  now: number,
  giveUpAfterMs: number,
): { next: 'already gone' | 'give up' | 'retry'; answeredAt: number | undefined } {
  if (failure === 'gone') return { next: 'already gone', answeredAt };
  const since = failure === 'answered' ? (answeredAt ?? now) : answeredAt;
  return { next: since !== undefined && now - since >= giveUpAfterMs ? 'give up' : 'retry', answeredAt: since };
}

function saslOptions({ mechanism, username, password }: KafkaSasl): SASLOptions {
  switch (mechanism) {
    case 'plain':
      return { mechanism: 'PLAIN', username, password };
    case 'scram-sha-256':
      return { mechanism: 'SCRAM-SHA-256', username, password };
    case 'scram-sha-512':
      return { mechanism: 'SCRAM-SHA-512', username, password };
  }
}

/**
 * @platformatic/kafka connection options equal to what securityOptions gives kafkajs: the same
 * TLS settings (and, as kafkajs does, the broker's host name as TLS server name) and SASL
 * mechanism; plaintext when neither is set.
 */
export function platformaticSecurityOptions(
  settings: Pick<KafkaSettings, 'ssl' | 'sasl'>,
): Pick<ConnectionOptions, 'tls' | 'tlsServerName' | 'sasl'> {
  const options: Pick<ConnectionOptions, 'tls' | 'tlsServerName' | 'sasl'> = {};
  if (settings.ssl) {
    const { ca, cert, key, rejectUnauthorized } = settings.ssl;
    options.tls = { rejectUnauthorized, ...(ca ? { ca } : {}), ...(cert && key ? { cert, key } : {}) };
    options.tlsServerName = true;
  }
  if (settings.sasl) options.sasl = saslOptions(settings.sasl);
  return options;
}

function describe(error: unknown): string {
  const chain = errorChain(error);
  const deepest = chain.filter((node) => typeof node['message'] === 'string').at(-1);
  return deepest ? String(deepest['message']) : String(error);
}

interface Removal {
  groupId: string;
  memberId: string;
  startedAt: number;
  attempts: number;
  /** Failed attempts by kind, for the log line that ends the removal. */
  failures: Record<RemovalFailure, number>;
  /** Of the unreachable ones, requests a broker took but did not answer in time (maybe carried out). */
  timeouts: number;
  /** When a broker first answered an attempt; the give-up clock starts there. */
  answeredAt?: number;
  timer?: NodeJS.Timeout;
  settled: boolean;
}

const CONNECT_TIMEOUT_MS = 1_000;
const REQUEST_TIMEOUT_MS = 3_000;

export class StaleMemberRemover {
  private readonly now: () => number;
  private removal: Removal | undefined;
  private admin: Admin | undefined;
  private attempt: Promise<void> | undefined;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: StaleMemberRemoverOptions) {
    this.now = options.now ?? Date.now;
  }

  /**
   * Starts removing `memberId` of `groupId`, which the caller's consumer abandoned (it will rejoin,
   * if at all, as a new member). Supersedes a removal still running for another member: the group
   * holds at most one member of ours that has not expired yet, the latest.
   */
  remove(groupId: string, memberId: string): void {
    if (this.removal && !this.removal.settled) {
      if (this.removal.groupId === groupId && this.removal.memberId === memberId) return;
      this.settle(this.removal, 'superseded');
    }
    const removal: Removal = {
      groupId,
      memberId,
      startedAt: this.now(),
      attempts: 0,
      failures: { gone: 0, answered: 0, unreachable: 0 },
      timeouts: 0,
      settled: false,
    };
    this.removal = removal;
    this.options.logger.log(
      `${this.options.name} lost its membership in group ${groupId} (member ${memberId}); removing that member ` +
        `so that the consumer's rejoin does not wait for its session to expire`,
    );
    void this.run(removal);
  }

  /**
   * The consumer joined its group as `memberId`. A removal of another member ends: the join phase
   * that admitted the new member evicted every member that did not rejoin. A removal of this very
   * member ends too: it is our live membership, never to be removed.
   */
  joined(memberId: string): void {
    const removal = this.removal;
    if (!removal || removal.settled) return;
    this.settle(removal, 'superseded', memberId);
  }

  /** Ends any removal and closes the admin client. */
  async stop(): Promise<void> {
    if (this.removal && !this.removal.settled) this.settle(this.removal, 'stopped');
    // Closing first fails a request in flight at once instead of waiting for its timeout.
    await this.closeAdmin();
    await this.attempt;
    // An admin client that attempt may have created meanwhile.
    await this.closeAdmin();
    await this.closing;
  }

  private async run(removal: Removal): Promise<void> {
    if (removal.settled) return;
    removal.attempts++;
    const attempt = this.tryOnce(removal);
    this.attempt = attempt;
    await attempt;
  }

  private async tryOnce(removal: Removal): Promise<void> {
    let failure: { kind: RemovalFailure; error: unknown } | undefined;
    try {
      const admin = await this.adminClient();
      if (removal.settled) return;
      await admin.removeMembersFromConsumerGroup({
        groupId: removal.groupId,
        members: [{ memberId: removal.memberId, reason: 'abandoned by a restarted consumer of the same process' }],
      });
    } catch (error) {
      failure = { kind: classifyRemovalFailure(error), error };
    }
    if (removal.settled) return;
    if (!failure) return this.settle(removal, 'removed');
    removal.failures[failure.kind]++;
    if (errorChain(failure.error).some((node) => node['message'] === 'Request timed out')) removal.timeouts++;
    const { next, answeredAt } = afterFailedAttempt(
      failure.kind,
      removal.answeredAt,
      this.now(),
      this.options.giveUpAfterMs,
    );
    removal.answeredAt = answeredAt;
    if (next === 'already gone') return this.settle(removal, 'already gone');
    if (next === 'give up') return this.settle(removal, 'gave up', undefined, failure.error);
    removal.timer = setTimeout(() => {
      removal.timer = undefined;
      void this.run(removal);
    }, this.options.retryIntervalMs);
  }

  private settle(removal: Removal, outcome: StaleMemberOutcome, joinedAs?: string, error?: unknown): void {
    removal.settled = true;
    clearTimeout(removal.timer);
    removal.timer = undefined;
    const { name, logger } = this.options;
    const member = `member ${removal.memberId} of group ${removal.groupId}`;
    const { unreachable, answered } = removal.failures;
    const took =
      `${removal.attempts} attempt(s) in ${this.now() - removal.startedAt} ms: ${unreachable} found no broker` +
      `${removal.timeouts ? ` (${removal.timeouts} timed out)` : ''}, ${answered} refused`;
    switch (outcome) {
      case 'removed':
        logger.log(`${name}: removed stale ${member} after its consumer restarted (${took})`);
        break;
      case 'already gone':
        logger.log(`${name}: stale ${member} had already left the group (${took})`);
        break;
      case 'superseded':
        logger.log(
          joinedAs === removal.memberId
            ? `${name}: rejoined as ${member}; not removing it`
            : `${name}: rejoined${joinedAs ? ` as member ${joinedAs}` : ''} before stale ${member} was removed; the rejoin evicted it`,
        );
        break;
      case 'gave up':
        logger.warn(
          `${name}: could not remove stale ${member} (${took}; last error: ${describe(error)}); ` +
            `the group waits for its session to expire`,
        );
        break;
      case 'stopped':
        break;
    }
    this.options.onSettled?.(removal.groupId, removal.memberId, outcome);
    // The admin client is only needed while a removal runs.
    if (this.removal === removal) void this.closeAdminWhenIdle();
  }

  private async closeAdminWhenIdle(): Promise<void> {
    await this.attempt;
    if (this.removal && !this.removal.settled) return;
    await this.closeAdmin();
  }

  private async adminClient(): Promise<Admin> {
    if (this.admin) return this.admin;
    // Loaded on first use: most processes never need it, and its option validators cost start-up time.
    const { Admin } = await import('@platformatic/kafka');
    const { settings } = this.options;
    this.admin = new Admin({
      clientId: `${settings.clientId}-stale-member-removal`,
      bootstrapBrokers: settings.brokers,
      ...platformaticSecurityOptions(settings),
      connectTimeout: CONNECT_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
      // Our own loop retries, at its own pace, with its own deadline.
      retries: 0,
    });
    return this.admin;
  }

  private async closeAdmin(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    if (!admin) return;
    const closing = admin.close().catch((error: unknown) => {
      this.options.logger.warn(`${this.options.name}: closing the stale-member admin client: ${describe(error)}`);
    });
    // stop() waits for a close started by a removal that settled just before it.
    this.closing = Promise.all([this.closing, closing]).then(() => undefined);
    await closing;
  }
}
