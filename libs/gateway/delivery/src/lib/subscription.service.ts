/**
 * Subscribe/unsubscribe/ack and live fan-out, race-free against the events consumer:
 *
 *  1. register the subscription as syncing (live events for it are buffered),
 *  2. learn epoch + head (room cache, or PostgreSQL: commit precedes publish, so everything
 *     dispatched before step 1 is <= the head),
 *  3. when resuming, read the first page (to tell the client if its history was truncated);
 *     `last: N` resumes from the prevSeq of the N-th latest stored message,
 *  4. ack, then replay history after `afterSeq` page by page, paced by the client's acks,
 *  5. merge the buffer (dropping what the client has) and go live.
 *
 * A live event that does not chain onto a subscription's cursor (the consumer missed something,
 * e.g. around its start) sends that subscription back through steps 4-5 from its cursor.
 */
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
  Optional,
} from '@nestjs/common';
import {
  ErrorCode,
  type Message,
  type SubscribeAck,
  type SubscribeOk,
  type SubscribeRequest,
  type UnsubscribeAck,
} from '@seqcast/contracts';
import { MESSAGE_HISTORY, type MessageHistory, PARTITION_INTEREST, SUBSCRIPTION_OPTIONS } from './delivery.tokens';
import type { DeliverySession, DeliveryTarget, SessionPolicy } from './delivery-session';
import { gatewayMetrics, registerGaugeSource } from './gateway.metrics';
import {
  EPOCH_TTL_MS,
  HistoryReader,
  type HistoryPage,
  type HistoryReadStats,
  MAX_STALE_READS,
} from './history-reader';
import { messageBytes } from './message-meta';
import type { PartitionInterest } from './partition-interest';
import { type RoomCacheOptions, RoomRegistry } from './room-registry';
import type { AckResult, Subscription } from './subscription';

export interface SubscriptionOptions {
  /** Rows per history read when replaying or repairing. */
  historyPageSize?: number;
  /** Live events a syncing subscription may buffer before falling back to history. */
  maxBufferedPerSubscription?: number;
  /** Backoff between failed history reads while repairing a subscription. */
  retryDelaysMs?: number[];
  /** Acks, redelivery, backpressure (GATEWAY_ACK_TIMEOUT_MS, GATEWAY_MAX_BACKLOG_*). */
  delivery?: Partial<SessionPolicy>;
  /** The per-room cache of recent messages (GATEWAY_ROOM_CACHE_*). */
  roomCache?: Partial<RoomCacheOptions>;
  /** How long a read epoch is reused. */
  epochTtlMs?: number;
}

export interface SubscriptionStats {
  rooms: number;
  subscriptions: number;
}

const DEFAULT_PAGE_SIZE = 500;
const DEFAULT_RETRY_DELAYS_MS = [250, 500, 1000, 2000, 5000];
/** Sync rounds in a row that found nothing new in history yet still could not chain the buffer. */
const MAX_FRUITLESS_ROUNDS = 3;

@Injectable()
export class SubscriptionService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(SubscriptionService.name);
  private readonly registry: RoomRegistry;
  private readonly reader: HistoryReader;
  private readonly pageSize: number;
  private readonly retryDelaysMs: number[];
  /**
   * While the first subscribe of a subscription positions it: resolves when it did (or failed).
   * Removed once settled, so an idle subscription holds no promise.
   */
  private readonly positioned = new WeakMap<Subscription, Promise<boolean>>();
  private readonly syncing = new WeakSet<Subscription>();
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private unregisterGauges: (() => void) | undefined;
  private destroyed = false;

  constructor(
    @Inject(MESSAGE_HISTORY) history: MessageHistory,
    @Optional() @Inject(SUBSCRIPTION_OPTIONS) options: SubscriptionOptions = {},
    @Optional() @Inject(PARTITION_INTEREST) private readonly interest?: PartitionInterest,
  ) {
    this.registry = new RoomRegistry({
      maxBufferedPerSubscription: options.maxBufferedPerSubscription,
      onRoomActivity: interest ? (roomId, active) => interest.roomActive(roomId, active) : undefined,
      session: options.delivery,
      cache: options.roomCache,
    });
    this.reader = new HistoryReader(history, this.registry, options.epochTtlMs ?? EPOCH_TTL_MS);
    this.pageSize = options.historyPageSize ?? DEFAULT_PAGE_SIZE;
    this.retryDelaysMs = options.retryDelaysMs?.length ? options.retryDelaysMs : DEFAULT_RETRY_DELAYS_MS;
    if (interest) {
      interest.onPaused = (partition) =>
        this.registry.dropIdleRooms((roomId) => interest.partitionOf(roomId) === partition);
    }
  }

  get stats(): SubscriptionStats {
    return { rooms: this.registry.roomCount, subscriptions: this.registry.subscriptionCount };
  }

  /** Everything an operator (or a test) may want to see of the delivery state. */
  get details(): SubscriptionStats & {
    sessions: number;
    unackedMessages: number;
    maxBacklog: { messages: number; bytes: number };
    cache: { rooms: number; messages: number; bytes: number };
    history: HistoryReadStats;
  } {
    const backlog = this.registry.backlogStats();
    return {
      ...this.stats,
      sessions: this.registry.sessionCount,
      unackedMessages: backlog.unacked,
      maxBacklog: { messages: backlog.maxMessages, bytes: backlog.maxBytes },
      cache: this.registry.cacheStats,
      history: this.reader.stats,
    };
  }

  onModuleInit(): void {
    this.unregisterGauges = registerGaugeSource(() => {
      const backlog = this.registry.backlogStats();
      const cache = this.registry.cacheStats;
      return {
        subscriptions: this.registry.subscriptionCount,
        subscribedRooms: this.registry.roomCount,
        maxBacklogMessages: backlog.maxMessages,
        maxBacklogBytes: backlog.maxBytes,
        unackedMessages: backlog.unacked,
        cachedRooms: cache.rooms,
        cachedMessages: cache.messages,
        cachedBytes: cache.bytes,
      };
    });
  }

  /** A socket connected: its delivery session (backlog bound, slow-consumer kick) starts now. */
  connect(target: DeliveryTarget): void {
    this.registry.connect(target);
  }

  /**
   * Subscribes `target` to a room (authorization is the caller's job). `respond` receives the ack
   * before any `messages` for this subscription are delivered.
   */
  async subscribe(
    target: DeliveryTarget,
    request: SubscribeRequest,
    respond: (ack: SubscribeAck) => void,
  ): Promise<void> {
    const { roomId } = request;
    const existing = this.registry.get(target.id, roomId);
    if (existing) {
      // Idempotent: keep the one subscription and tell the client where its stream stands. A
      // repeated afterSeq is ignored, or the client would get seqs it already has.
      // No entry: its first subscribe positioned it (a failed one removes the subscription).
      const positioning = this.positioned.get(existing);
      const ok = positioning ? await positioning : true;
      if (ok && existing.state !== 'closed') {
        respond({ ok: true, roomId, epoch: existing.epoch as string, headSeq: existing.cursor as number });
        return;
      }
      // That attempt failed or was unsubscribed meanwhile: start over against the current state.
      return this.subscribe(target, request, respond);
    }

    const subscription = this.registry.add(target, roomId);
    const room = this.registry.room(roomId);
    if (!room) throw new Error(`room ${roomId} has no state after registering a subscription`);
    let markPositioned: (ok: boolean) => void = () => undefined;
    this.positioned.set(subscription, new Promise<boolean>((resolve) => (markPositioned = resolve)));
    if (request.afterSeq !== undefined) gatewayMetrics.resumes.inc();

    let epoch: string;
    let headSeq: number;
    let firstPage: HistoryPage | undefined;
    let replayAfter: number | undefined;
    let reset = false;
    try {
      // A paused partition resumes from its end first: the head read below must come after that.
      await this.interest?.ready(roomId);
      epoch = await this.reader.epoch();
      // "The latest N, then live" is a resume from the cursor those N follow, so it takes the very
      // same path (and seam) as afterSeq below. Resolved before the head is read, the cursor is
      // never above it; whatever commits in between is replayed or buffered like any resume's.
      const afterSeq =
        request.afterSeq ??
        (request.last === undefined ? undefined : await this.reader.afterSeqForLatest(room, epoch, request.last));
      headSeq = await this.reader.head(room, epoch, subscription.dispatchedBefore, afterSeq);
      // Only a client-held cursor can be from another epoch; a resolved one is from this one.
      reset = request.afterSeq !== undefined && request.epoch !== undefined && request.epoch !== epoch;
      // Nobody can hold a seq above the head (commit precedes publish), so a larger afterSeq is
      // clamped rather than trusted.
      replayAfter = afterSeq === undefined ? undefined : reset ? -1 : Math.min(afterSeq, headSeq);
      if (replayAfter !== undefined && replayAfter < headSeq && subscription.state !== 'closed') {
        firstPage = await this.reader.page(room, epoch, replayAfter, this.pageSize, subscription.dispatchedBefore);
      }
    } catch (error) {
      this.logger.warn(`subscribe ${roomId}: cannot read message history: ${describe(error)}`);
      this.registry.remove(target.id, roomId, subscription);
      this.positioned.delete(subscription);
      markPositioned(false);
      respond(unavailable());
      return;
    }

    subscription.startAt(epoch, replayAfter ?? headSeq);
    this.positioned.delete(subscription);
    markPositioned(true);
    const ack: SubscribeOk = { ok: true, roomId, epoch, headSeq };
    if (reset) ack.reset = true;
    // Retention pruned what the client asked for: the first retained message does not chain
    // onto its cursor. Delivery resumes after that message's predecessor.
    const first = firstPage?.messages[0];
    if (replayAfter !== undefined && first && first.prevSeq !== null && first.prevSeq > replayAfter) {
      ack.truncated = true;
      ack.resumeAfterSeq = first.prevSeq;
    }
    respond(ack);

    if (subscription.state === 'closed') return; // unsubscribed or disconnected meanwhile
    if (firstPage) this.startSync(subscription, firstPage);
    else if (!subscription.tryGoLive()) this.startSync(subscription);
  }

  /** Idempotent: unsubscribing from a room one is not subscribed to still succeeds. */
  unsubscribe(target: DeliveryTarget, roomId: string): UnsubscribeAck {
    this.registry.remove(target.id, roomId);
    return { ok: true, roomId };
  }

  /** The rooms a target is subscribed to (whatever their state). */
  roomsOf(targetId: string): string[] {
    return this.registry.roomsOf(targetId);
  }

  /** A cumulative ack from the client; anything invalid is ignored (and counted). */
  ack(targetId: string, roomId: string, seq: number): AckResult {
    const subscription = this.registry.get(targetId, roomId);
    const result: AckResult = subscription ? subscription.ack(seq) : 'not_subscribed';
    if (result === 'not_subscribed' || result === 'beyond_delivered') gatewayMetrics.invalidAcks.inc({ reason: result });
    return result;
  }

  /** Forgets every subscription and the session of a disconnected target. */
  disconnect(targetId: string): void {
    this.registry.removeTarget(targetId);
  }

  /** One consumer batch of one room, ascending: fanned out as one delivery per subscription. */
  dispatch(roomId: string, messages: readonly Message[]): void {
    for (const subscription of this.registry.dispatch(roomId, messages)) {
      this.logger.debug(`${subscription.session.id}/${roomId}: gap after seq ${subscription.cursor}, repairing`);
      this.startSync(subscription);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.interest?.close();
    this.destroyed = true;
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.retryTimers.clear();
    this.unregisterGauges?.();
  }

  private startSync(subscription: Subscription, firstPage?: HistoryPage, attempt = 0): void {
    if (this.destroyed || subscription.state !== 'syncing' || this.syncing.has(subscription)) return;
    this.syncing.add(subscription);
    this.sync(subscription, firstPage).then(
      () => this.syncing.delete(subscription),
      (error: unknown) => {
        this.syncing.delete(subscription);
        if (this.destroyed || subscription.state !== 'syncing') return;
        const delay = this.retryDelaysMs[Math.min(attempt, this.retryDelaysMs.length - 1)];
        this.logger.warn(`${subscription.roomId}: history read failed (${describe(error)}), retrying in ${delay}ms`);
        const timer = setTimeout(() => {
          this.retryTimers.delete(timer);
          this.startSync(subscription, undefined, attempt + 1);
        }, delay);
        timer.unref();
        this.retryTimers.add(timer);
      },
    );
  }

  /**
   * Pages history from the cursor until caught up, then merges the buffer; repeats if needed.
   * Each page goes out only as fast as the client acks (replay window and half the socket's
   * backlog bound), so a client far behind holds a bounded amount of memory and never blocks
   * anybody else.
   */
  private async sync(subscription: Subscription, firstPage?: HistoryPage): Promise<void> {
    const room = this.registry.room(subscription.roomId);
    if (!room) return;
    let pending = firstPage;
    let dispatchedBefore = subscription.dispatchedBefore;
    let fruitless = 0;
    while (subscription.state === 'syncing' && !this.destroyed) {
      let delivered = 0;
      let stale = 0;
      for (;;) {
        if (!pending) {
          if (!(await this.replayCredit(subscription))) return;
          pending = await this.reader.page(
            room,
            subscription.epoch as string,
            subscription.cursor as number,
            this.pageSize,
            dispatchedBefore,
          );
          if (subscription.state !== 'syncing') return;
        }
        const page = pending;
        pending = undefined;
        const sent = await this.deliverPaced(subscription, page.messages);
        if (sent === undefined) return;
        delivered += sent;
        if (page.caughtUp) break;
        // An empty page that is not caught up was read before a dispatched message committed;
        // the next read sees it. If it never does (inconsistent data), stop asking.
        stale = page.messages.length === 0 ? stale + 1 : 0;
        if (stale >= MAX_STALE_READS) break;
      }
      if (subscription.tryGoLive()) return;
      // Repairs after registration only need the chain to close: the buffer holds the rest.
      dispatchedBefore = -1;
      fruitless = delivered > 0 ? 0 : fruitless + 1;
      if (fruitless >= MAX_FRUITLESS_ROUNDS) {
        this.logger.error(
          `${subscription.roomId}: events do not chain onto seq ${subscription.cursor} and history has nothing ` +
            'newer; delivering anyway',
        );
        subscription.forceLive();
        return;
      }
    }
  }

  /** Delivers a page in chunks the client's acks make room for; undefined if the subscription ended. */
  private async deliverPaced(subscription: Subscription, messages: readonly Message[]): Promise<number | undefined> {
    let delivered = 0;
    let i = 0;
    while (i < messages.length) {
      if (!(await this.replayCredit(subscription))) return undefined;
      const session = subscription.session;
      const policy = this.registry.policy;
      const windowLeft = Math.min(
        policy.replayWindowMessages - subscription.unackedCount,
        Math.floor(policy.maxBacklogMessages / 2) - session.unackedMessages,
      );
      let bytesLeft = session.replayBytesLeft();
      let end = i;
      while (end < messages.length && end - i < windowLeft) {
        const bytes = messageBytes(messages[end]);
        if (end > i && bytes > bytesLeft) break;
        bytesLeft -= bytes;
        end++;
      }
      end = Math.max(end, i + 1);
      delivered += subscription.deliverHistory(messages.slice(i, end));
      if (subscription.state !== 'syncing') return undefined;
      i = end;
    }
    return delivered;
  }

  /** Waits until the subscription may replay more; false if it ended meanwhile. */
  private async replayCredit(subscription: Subscription): Promise<boolean> {
    const session: DeliverySession = subscription.session;
    while (subscription.state === 'syncing' && !this.destroyed && session.active) {
      if (session.hasReplayCredit(subscription.unackedCount)) return true;
      await session.whenCredit();
    }
    return false;
  }
}

function unavailable(): SubscribeAck {
  return { ok: false, error: { code: ErrorCode.Unavailable, message: 'message history is unavailable, retry later' } };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
