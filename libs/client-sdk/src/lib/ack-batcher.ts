/**
 * Acknowledgements, batched: acks are cumulative, so one per room per `delayMs` (naming the
 * highest seq delivered) covers everything before it.
 */

/** What an ack is about: a room's delivered cursor and what was acknowledged already. */
export interface AckTarget {
  readonly roomId: string;
  cursor: { seq: number } | undefined;
  lastAckedSeq: number;
}

/** The seq to acknowledge now, or undefined when nothing new was delivered. */
export function seqToAck(target: AckTarget): number | undefined {
  const seq = target.cursor?.seq;
  if (seq === undefined || seq < 0 || seq <= target.lastAckedSeq) return undefined;
  return seq;
}

export interface AckBatcherOptions {
  delayMs: number;
  /** The room's current target, if it is still subscribed. */
  lookup: (roomId: string) => AckTarget | undefined;
  /** Sends one ack; false when there is no connection to send it on. */
  send: (roomId: string, seq: number) => boolean;
}

export class AckBatcher {
  private readonly due = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly options: AckBatcherOptions) {}

  /** A message of the room was delivered: its ack goes out with the next batch. */
  schedule(roomId: string): void {
    this.due.add(roomId);
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, this.options.delayMs);
  }

  flush(): void {
    for (const roomId of this.due) {
      const target = this.options.lookup(roomId);
      if (target) this.sendNow(target);
    }
    this.due.clear();
  }

  /** Sends the room's pending ack now (before unsubscribing) and forgets it. */
  flushRoom(target: AckTarget): void {
    if (this.due.has(target.roomId)) this.sendNow(target);
    this.due.delete(target.roomId);
  }

  /** The room is gone: nothing to acknowledge for it. */
  forget(roomId: string): void {
    this.due.delete(roomId);
  }

  /** Flushes, then stops. */
  close(): void {
    this.flush();
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.due.clear();
  }

  private sendNow(target: AckTarget): void {
    const seq = seqToAck(target);
    if (seq === undefined || !this.options.send(target.roomId, seq)) return;
    target.lastAckedSeq = seq;
  }
}
