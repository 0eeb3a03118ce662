/**
 * What one ingest instance remembers about the copies it accepted recently, so it can answer a
 * retry without writing it again (202, `duplicate: true`) and refuse a re-used key (409) without a
 * database round trip. Bounded, least recently used first out; per instance and lost on restart,
 * which is why the ordering worker applies the same rule again from what PostgreSQL holds.
 *
 * Hand-written rather than a cache library: it is a Map in insertion order plus an eviction loop,
 * and an entry must be able to hold a copy that is still being written (the promise of its
 * coordinates) so that concurrent retries of one key wait for the first write instead of racing it.
 */

/** Where a copy landed on the messages topic. */
export interface AcceptedCopy {
  partition: number;
  offset: number;
}

export interface CacheEntry {
  fingerprint: string;
  /** Settled coordinates, or the producer acknowledgement still awaited. */
  copy: AcceptedCopy | Promise<AcceptedCopy>;
}

export class IdempotencyCache {
  private readonly entries = new Map<string, CacheEntry>();

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 0) throw new Error(`cache capacity must be an integer >= 0`);
  }

  get size(): number {
    return this.entries.size;
  }

  /** The entry for `key`, now the most recently used. */
  get(key: string): CacheEntry | undefined {
    const entry = this.entries.get(key);
    if (entry) {
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
    return entry;
  }

  set(key: string, entry: CacheEntry): void {
    if (this.capacity === 0) return;
    this.entries.delete(key);
    this.entries.set(key, entry);
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }

  /** Forget `key` if it still maps to `entry` (a failed write must not be mistaken for an accepted one). */
  forget(key: string, entry: CacheEntry): void {
    if (this.entries.get(key) === entry) this.entries.delete(key);
  }
}

/** The cache key: room ids and clientMsgIds cannot contain NUL, so the first and last NUL delimit the sender. */
export function cacheKey(roomId: string, senderId: string, clientMsgId: string): string {
  return `${roomId}\u0000${senderId}\u0000${clientMsgId}`;
}
