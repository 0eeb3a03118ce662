/**
 * The worker's Kafka offset commits, which are a courtesy: PostgreSQL holds the position that
 * counts, and the committed offset only lets the next owner of a partition start fetching near it
 * instead of at the start of the log (whatever it fetches below the stored position it skips).
 *
 * So they are sent at most once per interval, with every partition's newest offset in one request.
 * One OffsetCommit per batch (coalesced while one was in flight) was ~150 requests/s at 1,000 msg/s,
 * each an append to __consumer_offsets on a broker that shares the box. The price is that a new
 * owner may fetch up to an interval of records again after a crash; a graceful stop flushes first.
 */
export const COURTESY_COMMIT_INTERVAL_MS = 1_000;

export interface PartitionOffset {
  partition: number;
  /** The next offset to fetch. */
  offset: number;
}

export class CourtesyCommits {
  private readonly pending = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;

  /** `commit` must not throw: a failed courtesy commit is logged and forgotten by its caller. */
  constructor(
    private readonly commit: (offsets: PartitionOffset[]) => Promise<void>,
    private readonly intervalMs = COURTESY_COMMIT_INTERVAL_MS,
  ) {}

  /** Remembers `offset` as `partition`'s next; it goes with the others at the end of the interval. */
  add(partition: number, offset: number): void {
    this.pending.set(partition, Math.max(offset, this.pending.get(partition) ?? 0));
    this.schedule();
  }

  /** Partitions that are no longer ours: committing for them is their new owner's business. */
  forget(partitions: Iterable<number>): void {
    for (const partition of partitions) this.pending.delete(partition);
  }

  /** Drops what is pending (a simulated crash). */
  discard(): void {
    this.cancelTimer();
    this.pending.clear();
  }

  /** Sends what is pending now, after the request in flight, and waits for it (graceful stop). */
  async flush(): Promise<void> {
    // A loop, not one await: two flushes at once (a stop, and a batch that ends while stopping)
    // must still send one request at a time.
    while (this.inFlight) await this.inFlight;
    this.cancelTimer();
    await this.send();
  }

  private cancelTimer(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.timer || this.inFlight) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.send();
    }, this.intervalMs);
    // A pending courtesy must not keep a stopped process alive.
    this.timer.unref();
  }

  private send(): Promise<void> {
    if (this.pending.size === 0) return Promise.resolve();
    const offsets = [...this.pending].map(([partition, offset]) => ({ partition, offset }));
    this.pending.clear();
    const request = this.commit(offsets).finally(() => {
      this.inFlight = undefined;
      if (this.pending.size > 0) this.schedule();
    });
    this.inFlight = request;
    return request;
  }
}
