/**
 * Every history read of the gateway goes through here (over the MessageHistory port of
 * @seqcast/persistence), so that a reconnect storm costs one
 * database read per distinct question instead of one per socket:
 *
 * - the room cache answers whatever range it covers (RoomCache);
 * - identical reads of a room (its head; a page after the same seq) share one query while it is
 *   in flight (single-flight, per room state);
 * - the epoch, which changes only when the input topic is recreated, is re-read at most once per
 *   EPOCH_TTL_MS.
 *
 * Sharing a read that was issued before a subscription registered could miss a message that was
 * dispatched (so not buffered for it) after the read's snapshot. Each subscription therefore
 * carries the highest seq dispatched before it registered, and an answer that ends below that is
 * not accepted as "caught up": the next read is a fresh one.
 */
import type { Message } from '@seqcast/contracts';
import type { MessageHistory } from '@seqcast/persistence';
import { gatewayMetrics, type HistoryReadKind } from './gateway.metrics';
import type { RoomRegistry, RoomState } from './room-registry';

/** How long a read epoch is trusted; an epoch changes only when the input topic is recreated. */
export const EPOCH_TTL_MS = 1_000;
/** Reads in a row that may end below what was already dispatched before one is accepted anyway. */
export const MAX_STALE_READS = 3;

export interface HistoryPage {
  messages: Message[];
  /** Nothing after this page had been dispatched before the subscription registered. */
  caughtUp: boolean;
}

export interface HistoryReadStats {
  /** Queries sent to PostgreSQL, by kind. */
  reads: Record<HistoryReadKind, number>;
  /** Reads answered by joining one already in flight. */
  shared: Record<HistoryReadKind, number>;
  /** Heads and pages answered from the room cache. */
  cacheHits: number;
}

export class HistoryReader {
  private readonly counts: HistoryReadStats = {
    reads: { epoch: 0, head: 0, page: 0 },
    shared: { epoch: 0, head: 0, page: 0 },
    cacheHits: 0,
  };
  private epochValue: { epoch: string; readAt: number } | undefined;
  private epochFlight: Promise<string> | undefined;

  constructor(
    private readonly history: MessageHistory,
    private readonly registry: RoomRegistry,
    private readonly epochTtlMs = EPOCH_TTL_MS,
  ) {}

  get stats(): HistoryReadStats {
    return { reads: { ...this.counts.reads }, shared: { ...this.counts.shared }, cacheHits: this.counts.cacheHits };
  }

  async epoch(): Promise<string> {
    if (this.epochValue && Date.now() - this.epochValue.readAt < this.epochTtlMs) return this.epochValue.epoch;
    if (this.epochFlight) {
      this.shared('epoch');
      return this.epochFlight;
    }
    this.read('epoch');
    const flight = this.history.currentEpoch().then(
      (epoch) => {
        this.epochValue = { epoch, readAt: Date.now() };
        return epoch;
      },
    );
    this.epochFlight = flight;
    const clear = () => {
      if (this.epochFlight === flight) this.epochFlight = undefined;
    };
    flight.then(clear, clear);
    return flight;
  }

  /**
   * The room's head for a subscription registered when `dispatchedBefore` was the last dispatched
   * seq. A client resuming from beyond what the cache knows (it was served by a gateway whose
   * consumer is ahead of ours) gets the stored head, so its cursor is not clamped needlessly.
   */
  async head(room: RoomState, epoch: string, dispatchedBefore: number, resumeAfter = -1): Promise<number> {
    room.cache.ensureEpoch(epoch);
    for (let attempt = 1; ; attempt++) {
      const tail = room.cache.tail as number;
      if (room.cache.complete && tail >= dispatchedBefore && tail >= resumeAfter) {
        this.counts.cacheHits++;
        gatewayMetrics.roomCacheHits.inc();
        return tail;
      }
      const head = await this.flight(room, 'head', 'head', () => this.history.headSeq(room.roomId));
      room.cache.recordHead(epoch, head);
      // Below what was dispatched: the read predates that commit, ask again. Inconsistent data
      // (it never shows up) must not loop forever: the chain check repairs whatever follows.
      if (head >= dispatchedBefore || attempt >= MAX_STALE_READS) return head;
    }
  }

  /** Messages after `afterSeq` (at most `limit`), from the room cache or PostgreSQL. */
  async page(
    room: RoomState,
    epoch: string,
    afterSeq: number,
    limit: number,
    dispatchedBefore: number,
  ): Promise<HistoryPage> {
    room.cache.ensureEpoch(epoch);
    const cached = room.cache.serve(epoch, afterSeq, limit);
    if (cached) {
      const last = cached.messages.length > 0 ? cached.messages[cached.messages.length - 1].seq : afterSeq;
      const caughtUp = cached.caughtUp && last >= dispatchedBefore;
      // An empty answer that is not "caught up" goes to PostgreSQL (never loop on the cache).
      if (cached.messages.length > 0 || caughtUp) {
        this.counts.cacheHits++;
        gatewayMetrics.roomCacheHits.inc();
        this.registry.touch(room);
        return { messages: cached.messages, caughtUp };
      }
    }
    const messages = await this.flight(room, `page:${afterSeq}:${limit}`, 'page', () =>
      this.history.findAfter(room.roomId, afterSeq, limit),
    );
    const short = messages.length < limit;
    room.cache.recordPage(epoch, afterSeq, messages, short);
    this.registry.enforceCacheBudget();
    const last = messages.length > 0 ? messages[messages.length - 1].seq : afterSeq;
    return { messages, caughtUp: short && last >= dispatchedBefore };
  }

  /**
   * The cursor the latest `count` stored messages follow (subscribe's `last`): one indexed query of
   * `count` rows, shared by identical subscribes in flight. Not answered from the room cache, which
   * may hold fewer than `count` messages without knowing what precedes them.
   */
  async afterSeqForLatest(room: RoomState, epoch: string, count: number): Promise<number> {
    room.cache.ensureEpoch(epoch);
    return this.flight(room, `latest:${count}`, 'page', () => this.history.afterSeqForLatest(room.roomId, count));
  }

  private flight<T>(room: RoomState, key: string, kind: HistoryReadKind, read: () => Promise<T>): Promise<T> {
    const inFlight = room.flights.get(key) as Promise<T> | undefined;
    if (inFlight) {
      this.shared(kind);
      return inFlight;
    }
    this.read(kind);
    const flight = read();
    room.flights.set(key, flight);
    const clear = () => {
      if (room.flights.get(key) === flight) room.flights.delete(key);
    };
    flight.then(clear, clear);
    return flight;
  }

  private read(kind: HistoryReadKind): void {
    this.counts.reads[kind]++;
    gatewayMetrics.historyReads.inc({ kind });
  }

  private shared(kind: HistoryReadKind): void {
    this.counts.shared[kind]++;
    gatewayMetrics.historyReadsShared.inc({ kind });
  }
}
