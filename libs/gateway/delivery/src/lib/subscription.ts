/**
 * One socket's subscription to one room: the cursor that guarantees in-order, gap-free,
 * duplicate-free delivery, and the window of delivered-but-unacked messages behind it.
 * Synchronous apart from its redelivery timer; SubscriptionService drives the async parts
 * (reading history) through `startAt`, `deliverHistory` and `tryGoLive`.
 *
 * While *syncing* (just registered, replaying history, or repairing a gap) live events are
 * buffered; once *live* they are delivered straight away as long as they chain onto the cursor.
 *
 * Acks are cumulative: `ack(seq)` releases every window entry up to seq. Whatever stays unacked
 * for the ack timeout is sent again from the first unacked seq, with the timeout doubling on
 * each round without progress (capped at 8x). The window holds references to Message objects
 * that are shared with the room cache and every other subscriber, so its own cost is two slots
 * (message, delivery time) per unacked message; the socket's backlog bound caps it.
 */
import type { Message } from '@seqcast/contracts';
import type { DeliveryKind, DeliverySession, SharedFrame } from './delivery-session';
import { gatewayMetrics } from './gateway.metrics';
import { type LiveBatch, MAX_MESSAGES_PER_EMIT } from './live-batch';
import { messageBytes, sentAtMs } from './message-meta';

export { MAX_MESSAGES_PER_EMIT } from './live-batch';
/** Beyond this many buffered events a syncing subscription drops its buffer and re-reads history. */
export const DEFAULT_MAX_BUFFERED = 10_000;
/** Redelivery backoff: the ack timeout doubles per fruitless round, up to this factor. */
export const MAX_REDELIVERY_BACKOFF = 8;

export type SubscriptionState = 'syncing' | 'live' | 'closed';

/** Outcome of offering live events to a subscription. */
export type OfferResult = 'delivered' | 'buffered' | 'gap' | 'ignored';

/** Outcome of a client ack. `stale` (already covered) is harmless; the others are invalid. */
export type AckResult = 'ok' | 'stale' | 'beyond_delivered' | 'not_subscribed';

function chainsOnto(message: Message, seq: number): boolean {
  return (message.prevSeq ?? -1) === seq;
}

export class Subscription {
  private _state: SubscriptionState = 'syncing';
  /** Last seq the client has (delivered, or the head it was told about); undefined until positioned. */
  private _cursor: number | undefined;
  private _epoch: string | undefined;
  private _lastAcked = -1;
  private buffer: Message[] = [];
  private overflowed = false;

  /** Unacked window: windowMessages[windowStart..] ascending, with when each was last sent. */
  private windowMessages: Message[] = [];
  private windowSentAt: number[] = [];
  private windowStart = 0;
  private windowBytes = 0;
  private redeliveryTimer: NodeJS.Timeout | undefined;
  private redeliveryRound = 0;

  constructor(
    readonly session: DeliverySession,
    readonly roomId: string,
    private readonly maxBuffered = DEFAULT_MAX_BUFFERED,
    /** Highest seq dispatched for the room before this subscription started buffering. */
    readonly dispatchedBefore = -1,
  ) {}

  get state(): SubscriptionState {
    return this._state;
  }
  get cursor(): number | undefined {
    return this._cursor;
  }
  get epoch(): string | undefined {
    return this._epoch;
  }
  get lastAcked(): number {
    return this._lastAcked;
  }
  get bufferedCount(): number {
    return this.buffer.length;
  }
  get unackedCount(): number {
    return this.windowMessages.length - this.windowStart;
  }
  get unackedBytes(): number {
    return this.windowBytes;
  }
  get redeliveryPending(): boolean {
    return this.redeliveryTimer !== undefined;
  }

  /** Positions the cursor once history has been read; events buffered so far stay buffered. */
  startAt(epoch: string, cursor: number): void {
    this._epoch = epoch;
    this._cursor = cursor;
    this._lastAcked = cursor;
  }

  /**
   * Live events of this room, ascending. Delivers what chains onto the cursor; on a break
   * (a seq the gateway never saw in between) it switches to syncing and returns 'gap' so the
   * caller repairs from history.
   */
  offer(messages: readonly Message[], batch?: LiveBatch): OfferResult {
    if (this._state === 'closed' || messages.length === 0) return 'ignored';
    if (this._state === 'syncing') {
      this.bufferAll(messages);
      return 'buffered';
    }
    const cursor = this._cursor as number;
    if (batch && batch.messages === messages && batch.startsAfter === cursor && messages[0].seq > cursor) {
      // At the room's live head: the chained run goes out as the batch's shared (encoded once) frames.
      this.emit(messages.slice(0, batch.chainedLength), 'live', batch.frames);
      if (this.isClosed() || batch.chainedLength === messages.length) return 'delivered';
      this._state = 'syncing';
      this.bufferAll(messages.slice(batch.chainedLength));
      return 'gap';
    }
    const fresh = messages.filter((m) => m.seq > cursor);
    if (fresh.length === 0) return 'ignored';
    const chained = this.chainedPrefix(fresh, cursor);
    this.emit(chained, 'live');
    if (this.isClosed()) return 'delivered';
    if (chained.length === fresh.length) return 'delivered';
    this._state = 'syncing';
    this.bufferAll(fresh.slice(chained.length));
    return 'gap';
  }

  /**
   * A page of history (ascending, current epoch): authoritative, so it is delivered without
   * chain checks. Returns how many messages were new to the client.
   */
  deliverHistory(page: readonly Message[]): number {
    if (this._state === 'closed') return 0;
    const cursor = this.requireCursor();
    const fresh = page.filter((m) => m.seq > cursor);
    this.emit(fresh, 'replay');
    return fresh.length;
  }

  /**
   * Merges the buffer after a sync: drops what the client already has, delivers the rest if it
   * chains onto the cursor and goes live. False means history must be read (again) first.
   */
  tryGoLive(): boolean {
    if (this._state !== 'syncing') return this._state === 'live';
    const cursor = this.requireCursor();
    if (this.overflowed) {
      // Events were dropped: only PostgreSQL knows them now. Buffer again from here on.
      this.overflowed = false;
      this.buffer = [];
      return false;
    }
    const fresh = this.buffer.filter((m) => m.seq > cursor);
    if (fresh.length > 0 && !chainsOnto(fresh[0], cursor)) {
      this.buffer = fresh;
      return false;
    }
    const chained = this.chainedPrefix(fresh, cursor);
    this.buffer = fresh.slice(chained.length);
    this.emit(chained, 'live');
    if (this.isClosed()) return false;
    if (this.buffer.length > 0) return false;
    this._state = 'live';
    return true;
  }

  /**
   * Last resort when history cannot explain a break in the event chain (inconsistent data):
   * deliver the buffer anyway rather than stall the room for this client forever.
   */
  forceLive(): void {
    if (this._state !== 'syncing') return;
    const cursor = this.requireCursor();
    const rest = this.buffer.filter((m) => m.seq > cursor);
    this.buffer = [];
    this.overflowed = false;
    this._state = 'live';
    this.emit(rest, 'live');
  }

  /** Cumulative client ack: everything up to `seq` arrived. */
  ack(seq: number): AckResult {
    if (this._state === 'closed') return 'not_subscribed';
    if (this._cursor === undefined || seq > this._cursor) return 'beyond_delivered';
    if (seq <= this._lastAcked) return 'stale';
    this._lastAcked = seq;
    this.redeliveryRound = 0;
    let released = 0;
    let bytes = 0;
    while (this.windowStart < this.windowMessages.length && this.windowMessages[this.windowStart].seq <= seq) {
      bytes += messageBytes(this.windowMessages[this.windowStart]);
      this.windowStart++;
      released++;
    }
    if (released > 0) this.release(released, bytes);
    // Progress: the next redelivery is due a plain timeout after the oldest delivery still unacked.
    this.clearRedelivery();
    this.armRedelivery();
    return 'ok';
  }

  close(): void {
    if (this._state === 'closed') return;
    this._state = 'closed';
    this.buffer = [];
    this.clearRedelivery();
    const count = this.unackedCount;
    if (count > 0) this.release(count, this.windowBytes);
    this.windowMessages = [];
    this.windowSentAt = [];
    this.windowStart = 0;
  }

  /** Re-reads the state after an emit (which may have kicked the socket and closed this). */
  private isClosed(): boolean {
    return this._state === 'closed';
  }

  private requireCursor(): number {
    if (this._cursor === undefined) throw new Error(`subscription to ${this.roomId} is not positioned`);
    return this._cursor;
  }

  private bufferAll(messages: readonly Message[]): void {
    if (this.overflowed) {
      gatewayMetrics.droppedDeliveries.inc({ reason: 'buffer_overflow' }, messages.length);
      return;
    }
    if (this.buffer.length + messages.length > this.maxBuffered) {
      gatewayMetrics.droppedDeliveries.inc({ reason: 'buffer_overflow' }, this.buffer.length + messages.length);
      this.overflowed = true;
      this.buffer = [];
      return;
    }
    let last = this.buffer.length > 0 ? this.buffer[this.buffer.length - 1].seq : -Infinity;
    for (const m of messages) {
      if (m.seq <= last) continue;
      this.buffer.push(m);
      last = m.seq;
    }
  }

  private chainedPrefix(fresh: readonly Message[], cursor: number): Message[] {
    const out: Message[] = [];
    let last = cursor;
    for (const m of fresh) {
      if (!chainsOnto(m, last)) break;
      out.push(m);
      last = m.seq;
    }
    return out;
  }

  /**
   * Sends in frames of at most MAX_MESSAGES_PER_EMIT, each recorded in the window before it
   * leaves, and enforces the socket's backlog bound after each (which may close this
   * subscription: the rest is then not sent).
   */
  private emit(messages: readonly Message[], kind: DeliveryKind, shared?: readonly SharedFrame[]): void {
    if (messages.length === 0) return;
    const now = Date.now();
    for (let i = 0, f = 0; i < messages.length; i += MAX_MESSAGES_PER_EMIT, f++) {
      if (this._state === 'closed' || !this.session.active) return;
      const sharedFrame = shared?.[f];
      const frame = sharedFrame ? sharedFrame.event.messages : messages.slice(i, i + MAX_MESSAGES_PER_EMIT);
      let bytes = 0;
      for (const m of frame) {
        this.windowMessages.push(m);
        this.windowSentAt.push(now);
      }
      if (sharedFrame) bytes = sharedFrame.bytes;
      else for (const m of frame) bytes += messageBytes(m);
      this.windowBytes += bytes;
      this.session.track(frame.length, bytes);
      this._cursor = frame[frame.length - 1].seq;
      const event = sharedFrame ? sharedFrame.event : { roomId: this.roomId, messages: frame };
      if (this.session.send(event, kind, sharedFrame)) {
        if (kind === 'live') observeLatency(frame, now);
        else gatewayMetrics.replayedMessages.inc(frame.length);
      }
      this.armRedelivery();
      this.session.enforceBound();
    }
  }

  private release(count: number, bytes: number): void {
    this.windowBytes -= bytes;
    this.session.track(-count, -bytes);
    // Drop references to acked messages so the window never keeps them alive.
    if (this.windowStart === this.windowMessages.length) {
      this.windowMessages = [];
      this.windowSentAt = [];
      this.windowStart = 0;
    } else if (this.windowStart > 256 && this.windowStart * 2 > this.windowMessages.length) {
      this.windowMessages = this.windowMessages.slice(this.windowStart);
      this.windowSentAt = this.windowSentAt.slice(this.windowStart);
      this.windowStart = 0;
    }
  }

  private redeliveryDelay(): number {
    return this.session.policy.ackTimeoutMs * Math.min(2 ** this.redeliveryRound, MAX_REDELIVERY_BACKOFF);
  }

  /** One timer per subscription, armed while anything is unacked and re-armed lazily. */
  private armRedelivery(): void {
    if (this.redeliveryTimer || this.unackedCount === 0 || this._state === 'closed') return;
    const due = this.windowSentAt[this.windowStart] + this.redeliveryDelay();
    this.redeliveryTimer = setTimeout(() => this.onRedeliveryTimer(), Math.max(0, due - Date.now()));
    this.redeliveryTimer.unref();
  }

  private clearRedelivery(): void {
    if (this.redeliveryTimer) clearTimeout(this.redeliveryTimer);
    this.redeliveryTimer = undefined;
  }

  private onRedeliveryTimer(): void {
    this.redeliveryTimer = undefined;
    if (this._state === 'closed' || this.unackedCount === 0 || !this.session.active) return;
    const due = this.windowSentAt[this.windowStart] + this.redeliveryDelay();
    if (Date.now() < due) {
      this.armRedelivery(); // acks moved the oldest unacked delivery on
      return;
    }
    this.redeliver();
  }

  /** Re-sends every unacked message, from the first unacked seq, as ordinary `messages` frames. */
  private redeliver(): void {
    const pending = this.windowMessages.slice(this.windowStart);
    const now = Date.now();
    for (let i = this.windowStart; i < this.windowSentAt.length; i++) this.windowSentAt[i] = now;
    this.redeliveryRound++;
    gatewayMetrics.redeliveries.inc(pending.length);
    for (let i = 0; i < pending.length; i += MAX_MESSAGES_PER_EMIT) {
      if (this._state === 'closed' || !this.session.active) return;
      this.session.send({ roomId: this.roomId, messages: pending.slice(i, i + MAX_MESSAGES_PER_EMIT) }, 'redelivery');
      this.session.enforceBound();
    }
    this.armRedelivery();
  }
}

function observeLatency(messages: readonly Message[], nowMs: number): void {
  for (const m of messages) {
    const sent = sentAtMs(m);
    if (Number.isFinite(sent)) gatewayMetrics.deliveryLatency.observe(Math.max(0, nowMs - sent) / 1000);
  }
}
