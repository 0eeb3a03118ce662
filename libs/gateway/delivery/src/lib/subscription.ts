/**
 * One socket's subscription to one room: the cursor that guarantees in-order, gap-free,
 * duplicate-free delivery. Pure and synchronous; SubscriptionService drives the async parts
 * (reading PostgreSQL) through `startAt`, `deliverHistory` and `tryGoLive`.
 *
 * While *syncing* (just registered, replaying history, or repairing a gap) live events are
 * buffered; once *live* they are delivered straight away as long as they chain onto the cursor.
 */
import type { Message, MessagesEvent } from '@seqcast/contracts';

/** Where a subscription's messages go: a socket in production, a recorder in tests. */
export interface DeliveryTarget {
  readonly id: string;
  deliver(event: MessagesEvent): void;
}

/** Socket.IO frames stay reasonably small even when a consumer batch or history page is large. */
export const MAX_MESSAGES_PER_EMIT = 500;
/** Beyond this many buffered events a syncing subscription drops its buffer and re-reads PostgreSQL. */
export const DEFAULT_MAX_BUFFERED = 10_000;

export type SubscriptionState = 'syncing' | 'live' | 'closed';

/** Outcome of offering live events to a subscription. */
export type OfferResult = 'delivered' | 'buffered' | 'gap' | 'ignored';

function chainsOnto(message: Message, seq: number): boolean {
  return (message.prevSeq ?? -1) === seq;
}

export class Subscription {
  private _state: SubscriptionState = 'syncing';
  /** Last seq the client has (delivered, or the head it was told about); undefined until positioned. */
  private _cursor: number | undefined;
  private _epoch: string | undefined;
  private buffer: Message[] = [];
  private overflowed = false;

  constructor(
    readonly target: DeliveryTarget,
    readonly roomId: string,
    private readonly maxBuffered = DEFAULT_MAX_BUFFERED,
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
  get bufferedCount(): number {
    return this.buffer.length;
  }

  /** Positions the cursor once PostgreSQL has been read; events buffered so far stay buffered. */
  startAt(epoch: string, cursor: number): void {
    this._epoch = epoch;
    this._cursor = cursor;
  }

  /**
   * Live events of this room, ascending. Delivers what chains onto the cursor; on a break
   * (a seq the gateway never saw in between) it switches to syncing and returns 'gap' so the
   * caller repairs from PostgreSQL.
   */
  offer(messages: readonly Message[]): OfferResult {
    if (this._state === 'closed' || messages.length === 0) return 'ignored';
    if (this._state === 'syncing') {
      this.bufferAll(messages);
      return 'buffered';
    }
    const cursor = this._cursor as number;
    const fresh = messages.filter((m) => m.seq > cursor);
    if (fresh.length === 0) return 'ignored';
    const chained = this.chainedPrefix(fresh, cursor);
    this.emit(chained);
    if (chained.length === fresh.length) return 'delivered';
    this._state = 'syncing';
    this.bufferAll(fresh.slice(chained.length));
    return 'gap';
  }

  /**
   * A page from PostgreSQL (ascending, current epoch): authoritative, so it is delivered without
   * chain checks. Returns how many messages were new to the client.
   */
  deliverHistory(page: readonly Message[]): number {
    if (this._state === 'closed') return 0;
    const cursor = this.requireCursor();
    const fresh = page.filter((m) => m.seq > cursor);
    this.emit(fresh);
    return fresh.length;
  }

  /**
   * Merges the buffer after a sync: drops what the client already has, delivers the rest if it
   * chains onto the cursor and goes live. False means PostgreSQL must be read (again) first.
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
    this.emit(chained);
    if (chained.length < fresh.length) {
      this.buffer = fresh.slice(chained.length);
      return false;
    }
    this.buffer = [];
    this._state = 'live';
    return true;
  }

  /**
   * Last resort when PostgreSQL cannot explain a break in the event chain (inconsistent data):
   * deliver the buffer anyway rather than stall the room for this client forever.
   */
  forceLive(): void {
    if (this._state !== 'syncing') return;
    const cursor = this.requireCursor();
    this.emit(this.buffer.filter((m) => m.seq > cursor));
    this.buffer = [];
    this.overflowed = false;
    this._state = 'live';
  }

  close(): void {
    this._state = 'closed';
    this.buffer = [];
  }

  private requireCursor(): number {
    if (this._cursor === undefined) throw new Error(`subscription to ${this.roomId} is not positioned`);
    return this._cursor;
  }

  private bufferAll(messages: readonly Message[]): void {
    if (this.overflowed) return;
    if (this.buffer.length + messages.length > this.maxBuffered) {
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

  private emit(messages: readonly Message[]): void {
    if (messages.length === 0) return;
    for (let i = 0; i < messages.length; i += MAX_MESSAGES_PER_EMIT) {
      this.target.deliver({ roomId: this.roomId, messages: messages.slice(i, i + MAX_MESSAGES_PER_EMIT) });
    }
    this._cursor = messages[messages.length - 1].seq;
  }
}
