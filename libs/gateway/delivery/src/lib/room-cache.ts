/**
 * One room's recent messages in memory, so a reconnect storm replays from RAM instead of
 * PostgreSQL. The cache is a *range*: it holds every message of the room with
 * `floor < seq <= tail` (retained history; a pruned message is simply absent), nothing else.
 *
 * `complete` adds: no message of the room has been dispatched with a seq above `tail`. It holds
 * once the cache has seen a dispatch (the registry feeds it every live event of the room, and a
 * room's events arrive in seq order) or a short page / head read issued after the room's state
 * was created (PostgreSQL commits before the events topic is written). A complete cache answers
 * "caught up" for any subscription of the room: what it does not hold has not been dispatched yet
 * and will reach the subscription's live buffer.
 *
 * Pure and synchronous; RoomRegistry owns it and HistoryReader feeds it reads.
 */
import type { Message } from '@seqcast/contracts';
import { messageBytes } from './message-meta';

export interface CachedPage {
  messages: Message[];
  /** The page ends at the cache's tail and the cache is complete: nothing newer was dispatched. */
  caughtUp: boolean;
}

export class RoomCache {
  /** messages[start..] ascending; a moving start keeps trimming O(1). */
  private messages: Message[] = [];
  private start = 0;
  private _floor: number | undefined;
  private _tail: number | undefined;
  private _complete = false;
  private _epoch: string | undefined;
  private _bytes = 0;

  constructor(
    /** GATEWAY_ROOM_CACHE_MESSAGES: at most this many messages (0 keeps only the tail). */
    private readonly maxMessages: number,
    /** Told of every change in held bytes (the registry keeps the global budget). */
    private readonly onBytes: (delta: number) => void = () => undefined,
  ) {}

  get known(): boolean {
    return this._tail !== undefined;
  }
  get complete(): boolean {
    return this._complete;
  }
  get tail(): number | undefined {
    return this._tail;
  }
  get floor(): number | undefined {
    return this._floor;
  }
  get epoch(): string | undefined {
    return this._epoch;
  }
  get size(): number {
    return this.messages.length - this.start;
  }
  get bytes(): number {
    return this._bytes;
  }

  /** Forgets everything (budget eviction, epoch change). Dispatches re-establish it. */
  clear(): void {
    this.setMessages([]);
    this._floor = undefined;
    this._tail = undefined;
    this._complete = false;
    this._epoch = undefined;
  }

  /** Drops the cache if it holds another epoch's messages. */
  ensureEpoch(epoch: string): void {
    if (this._epoch !== undefined && this._epoch !== epoch) this.clear();
    this._epoch ??= epoch;
  }

  /** Live events of the room, ascending, already deduplicated against earlier dispatches. */
  recordDispatch(fresh: readonly Message[]): void {
    for (const m of fresh) {
      this.ensureEpoch(m.epoch);
      if (this._tail !== undefined && m.seq <= this._tail) {
        // Known already (a read got here first); the cache covers everything dispatched so far.
      } else if (this._tail !== undefined && (m.prevSeq ?? -1) === this._tail) {
        this.append([m]);
        this._tail = m.seq;
      } else {
        // A break (the cache was empty, or events were missed): restart the range at this event.
        this.setMessages([m]);
        this._floor = m.prevSeq ?? -1;
        this._tail = m.seq;
      }
      this._complete = true;
    }
    this.trim();
  }

  /** A head read (highest stored seq) issued after this room state was created. */
  recordHead(epoch: string, head: number): void {
    this.ensureEpoch(epoch);
    if (!this.known) {
      this._floor = head;
      this._tail = head;
      this._complete = true;
    } else if (!this._complete && head === this._tail) {
      this._complete = true;
    }
  }

  /**
   * A history page: every retained message with seq > afterSeq, ascending, at most `limit`
   * (short: fewer, so nothing newer was stored when it was read). Merged when it overlaps or
   * touches the cached range; otherwise it replaces the cache only if it reaches further.
   */
  recordPage(epoch: string, afterSeq: number, page: readonly Message[], short: boolean): void {
    this.ensureEpoch(epoch);
    if (page.some((m) => m.epoch !== epoch)) return;
    const last = page.length > 0 ? page[page.length - 1].seq : afterSeq;
    if (!this.known) {
      this.setMessages([...page]);
      this._floor = afterSeq;
      this._tail = last;
      this._complete = short;
    } else if (afterSeq <= (this._tail as number) && last >= (this._floor as number)) {
      const floor = this._floor as number;
      const tail = this._tail as number;
      const before = page.filter((m) => m.seq <= floor);
      const after = page.filter((m) => m.seq > tail);
      if (before.length > 0 || afterSeq < floor) {
        this.setMessages([...before, ...this.view()]);
        this._floor = Math.min(floor, afterSeq);
      }
      if (after.length > 0) {
        this.append(after);
        this._tail = last;
      }
      this._complete ||= short;
    } else if (last > (this._tail as number)) {
      this.setMessages([...page]);
      this._floor = afterSeq;
      this._tail = last;
      this._complete = short;
    }
    this.trim();
  }

  /**
   * Messages after `afterSeq` (at most `limit`) if the cache covers that range, else undefined
   * (read PostgreSQL). An empty answer is only given when it is authoritative (caught up).
   */
  serve(epoch: string, afterSeq: number, limit: number): CachedPage | undefined {
    if (!this.known || this._epoch !== epoch) return undefined;
    const floor = this._floor as number;
    const tail = this._tail as number;
    if (afterSeq < floor) return undefined;
    if (afterSeq >= tail) return this._complete ? { messages: [], caughtUp: true } : undefined;
    const from = this.firstAfter(afterSeq);
    const messages = this.messages.slice(from, from + limit);
    const reachesTail = from + limit >= this.messages.length;
    return { messages, caughtUp: reachesTail && this._complete };
  }

  private view(): Message[] {
    return this.messages.slice(this.start);
  }

  private firstAfter(seq: number): number {
    let lo = this.start;
    let hi = this.messages.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.messages[mid].seq <= seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private setMessages(messages: Message[]): void {
    let bytes = 0;
    for (const m of messages) bytes += messageBytes(m);
    this.onBytes(bytes - this._bytes);
    this._bytes = bytes;
    this.messages = messages;
    this.start = 0;
  }

  private append(messages: readonly Message[]): void {
    let bytes = 0;
    for (const m of messages) {
      this.messages.push(m);
      bytes += messageBytes(m);
    }
    this._bytes += bytes;
    this.onBytes(bytes);
  }

  /** Keeps the newest `maxMessages`; the floor rises to the last message dropped. */
  private trim(): void {
    const excess = this.size - this.maxMessages;
    if (excess <= 0) return;
    let bytes = 0;
    for (let i = this.start; i < this.start + excess; i++) bytes += messageBytes(this.messages[i]);
    this._floor = this.messages[this.start + excess - 1].seq;
    this.start += excess;
    this._bytes -= bytes;
    this.onBytes(-bytes);
    if (this.start > 1024 && this.start * 2 > this.messages.length) {
      this.messages = this.messages.slice(this.start);
      this.start = 0;
    }
  }
}
