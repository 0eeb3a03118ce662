/**
 * What one client received of one room, where the publisher numbers each room's messages 0, 1, 2…
 * Tells apart new, duplicate and missing messages without keeping every number: a contiguous
 * prefix plus the few that arrived ahead of a gap.
 */
export class RoomTracker {
  /** Every n below this was received. */
  private next = 0;
  private readonly ahead = new Set<number>();
  duplicates = 0;

  /** Records n; false when it was already received (a duplicate shown to the application). */
  add(n: number): boolean {
    if (n < this.next || this.ahead.has(n)) {
      this.duplicates++;
      return false;
    }
    if (n === this.next) {
      this.next++;
      while (this.ahead.delete(this.next)) this.next++;
    } else {
      this.ahead.add(n);
    }
    return true;
  }

  get unique(): number {
    return this.next + this.ahead.size;
  }

  /** No message is missing below the highest one received. */
  get contiguous(): boolean {
    return this.ahead.size === 0;
  }

  has(n: number): boolean {
    return n < this.next || this.ahead.has(n);
  }

  /** No message is missing below the highest one received, except those in `excused`. */
  contiguousBut(excused: Set<number> | undefined): boolean {
    if (this.ahead.size === 0) return true;
    if (!excused) return false;
    const highest = Math.max(...this.ahead);
    for (let n = this.next; n < highest; n++) if (!this.has(n) && !excused.has(n)) return false;
    return true;
  }

  /** Messages of 0..expected-1 not received, not counting those in `excused` (never acknowledged to the publisher). */
  missing(expected: number, excused?: Set<number>): number {
    let have = Math.min(this.next, expected);
    for (const n of this.ahead) if (n < expected) have++;
    let missing = expected - have;
    if (excused) for (const n of excused) if (n < expected && !this.has(n)) missing--;
    return missing;
  }
}
