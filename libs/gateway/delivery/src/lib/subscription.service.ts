/**
 * Subscribe/unsubscribe and live fan-out, race-free against the events consumer:
 *
 *  1. register the subscription as syncing (live events for it are buffered),
 *  2. read epoch + headSeq from PostgreSQL (commit precedes publish, so everything dispatched
 *     before step 1 is <= headSeq),
 *  3. ack, then replay history after `afterSeq` page by page if asked,
 *  4. merge the buffer (dropping what the client has) and go live.
 *
 * A live event that does not chain onto a subscription's cursor (the consumer missed something,
 * e.g. around its start) sends that subscription back through steps 3-4 from its cursor.
 */
import { Inject, Injectable, Logger, type OnModuleDestroy, Optional } from '@nestjs/common';
import {
  ErrorCode,
  type Message,
  type SubscribeAck,
  type SubscribeRequest,
  type UnsubscribeAck,
} from '@seqcast/contracts';
import { MESSAGE_HISTORY, type MessageHistory, SUBSCRIPTION_OPTIONS } from './delivery.tokens';
import { RoomRegistry } from './room-registry';
import { DEFAULT_MAX_BUFFERED, type DeliveryTarget, type Subscription } from './subscription';

export interface SubscriptionOptions {
  /** Rows per findAfter call when replaying or repairing. */
  historyPageSize?: number;
  /** Live events a syncing subscription may buffer before falling back to PostgreSQL. */
  maxBufferedPerSubscription?: number;
  /** Backoff between failed PostgreSQL reads while repairing a subscription. */
  retryDelaysMs?: number[];
}

const DEFAULT_PAGE_SIZE = 500;
const DEFAULT_RETRY_DELAYS_MS = [250, 500, 1000, 2000, 5000];
/** Sync rounds in a row that found nothing new in PostgreSQL yet still could not chain the buffer. */
const MAX_FRUITLESS_ROUNDS = 3;

@Injectable()
export class SubscriptionService implements OnModuleDestroy {
  private readonly logger = new Logger(SubscriptionService.name);
  private readonly registry: RoomRegistry;
  private readonly pageSize: number;
  private readonly retryDelaysMs: number[];
  /** Resolves once the first subscribe of that subscription has positioned it (or failed). */
  private readonly positioned = new WeakMap<Subscription, Promise<boolean>>();
  private readonly syncing = new WeakSet<Subscription>();
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private destroyed = false;

  constructor(
    @Inject(MESSAGE_HISTORY) private readonly history: MessageHistory,
    @Optional() @Inject(SUBSCRIPTION_OPTIONS) options: SubscriptionOptions = {},
  ) {
    this.registry = new RoomRegistry(options.maxBufferedPerSubscription ?? DEFAULT_MAX_BUFFERED);
    this.pageSize = options.historyPageSize ?? DEFAULT_PAGE_SIZE;
    this.retryDelaysMs = options.retryDelaysMs?.length ? options.retryDelaysMs : DEFAULT_RETRY_DELAYS_MS;
  }

  get stats(): { rooms: number; subscriptions: number } {
    return { rooms: this.registry.roomCount, subscriptions: this.registry.subscriptionCount };
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
      const ok = await this.positioned.get(existing);
      if (ok && existing.state !== 'closed') {
        respond({ ok: true, roomId, epoch: existing.epoch as string, headSeq: existing.cursor as number });
        return;
      }
      // That attempt failed or was unsubscribed meanwhile: start over against the current state.
      return this.subscribe(target, request, respond);
    }

    const subscription = this.registry.add(target, roomId);
    let markPositioned: (ok: boolean) => void = () => undefined;
    this.positioned.set(subscription, new Promise<boolean>((resolve) => (markPositioned = resolve)));

    let epoch: string;
    let headSeq: number;
    try {
      [epoch, headSeq] = await Promise.all([this.history.currentEpoch(), this.history.headSeq(roomId)]);
    } catch (error) {
      this.logger.warn(`subscribe ${roomId}: cannot read message history: ${describe(error)}`);
      this.registry.remove(target.id, roomId, subscription);
      markPositioned(false);
      respond(unavailable());
      return;
    }

    const reset = request.afterSeq !== undefined && request.epoch !== undefined && request.epoch !== epoch;
    // Nobody can hold a seq above the head we just read (commit precedes publish), so a larger
    // afterSeq is clamped rather than trusted.
    const replayAfter = request.afterSeq === undefined ? undefined : reset ? -1 : Math.min(request.afterSeq, headSeq);
    subscription.startAt(epoch, replayAfter ?? headSeq);
    markPositioned(true);
    respond(reset ? { ok: true, roomId, epoch, headSeq, reset: true } : { ok: true, roomId, epoch, headSeq });

    if (subscription.state === 'closed') return; // unsubscribed or disconnected meanwhile
    if (replayAfter !== undefined && replayAfter < headSeq) this.startSync(subscription);
    else if (!subscription.tryGoLive()) this.startSync(subscription);
  }

  /** Idempotent: unsubscribing from a room one is not subscribed to still succeeds. */
  unsubscribe(target: DeliveryTarget, roomId: string): UnsubscribeAck {
    this.registry.remove(target.id, roomId);
    return { ok: true, roomId };
  }

  /** Forgets every subscription of a disconnected target. */
  disconnect(targetId: string): void {
    this.registry.removeTarget(targetId);
  }

  /** One consumer batch of one room, ascending: fanned out as one delivery per subscription. */
  dispatch(roomId: string, messages: readonly Message[]): void {
    for (const subscription of this.registry.dispatch(roomId, messages)) {
      this.logger.debug(`${subscription.target.id}/${roomId}: gap after seq ${subscription.cursor}, repairing`);
      this.startSync(subscription);
    }
  }

  onModuleDestroy(): void {
    this.destroyed = true;
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.retryTimers.clear();
  }

  private startSync(subscription: Subscription, attempt = 0): void {
    if (this.destroyed || subscription.state !== 'syncing' || this.syncing.has(subscription)) return;
    this.syncing.add(subscription);
    this.sync(subscription).then(
      () => this.syncing.delete(subscription),
      (error: unknown) => {
        this.syncing.delete(subscription);
        if (this.destroyed || subscription.state !== 'syncing') return;
        const delay = this.retryDelaysMs[Math.min(attempt, this.retryDelaysMs.length - 1)];
        this.logger.warn(`${subscription.roomId}: history read failed (${describe(error)}), retrying in ${delay}ms`);
        const timer = setTimeout(() => {
          this.retryTimers.delete(timer);
          this.startSync(subscription, attempt + 1);
        }, delay);
        timer.unref();
        this.retryTimers.add(timer);
      },
    );
  }

  /** Pages PostgreSQL from the cursor until caught up, then merges the buffer; repeats if needed. */
  private async sync(subscription: Subscription): Promise<void> {
    let fruitless = 0;
    while (subscription.state === 'syncing' && !this.destroyed) {
      let delivered = 0;
      for (;;) {
        const page = await this.history.findAfter(subscription.roomId, subscription.cursor as number, this.pageSize);
        if (subscription.state !== 'syncing') return;
        delivered += subscription.deliverHistory(page);
        if (page.length < this.pageSize) break;
      }
      if (subscription.tryGoLive()) return;
      fruitless = delivered > 0 ? 0 : fruitless + 1;
      if (fruitless >= MAX_FRUITLESS_ROUNDS) {
        this.logger.error(
          `${subscription.roomId}: events do not chain onto seq ${subscription.cursor} and PostgreSQL has nothing ` +
            'newer; delivering anyway',
        );
        subscription.forceLive();
        return;
      }
    }
  }
}

function unavailable(): SubscribeAck {
  return { ok: false, error: { code: ErrorCode.Unavailable, message: 'message history is unavailable, retry later' } };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
