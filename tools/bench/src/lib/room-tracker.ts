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

  /** Messages of 0..expected-1 not received. */
  missing(expected: number): number {
    let have = Math.min(this.next, expected);
    for (const n of this.ahead) if (n < expected) have++;
    return expected - have;
  }
}
