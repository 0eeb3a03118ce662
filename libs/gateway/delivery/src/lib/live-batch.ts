/**
 * One consumer batch of a room as every subscriber at the room's live head receives it: the run
 * of messages that chain onto each other from the batch's first message, cut into frames of at
 * most MAX_MESSAGES_PER_EMIT, each frame encoded once for all of them (SharedFrame).
 *
 * A subscription whose cursor is exactly the first message's predecessor would send precisely
 * these frames on its own, so it takes them as they are. Any other subscription (syncing,
 * lagging, repairing a gap) keeps going through its own per-socket path; the chain check in
 * Subscription stays the gate either way.
 */
import type { Message } from '@seqcast/contracts';
import { SharedFrame } from './delivery-session';

/** Socket.IO frames stay reasonably small even when a consumer batch or history page is large. */
export const MAX_MESSAGES_PER_EMIT = 500;

export class LiveBatch {
  /** messages[0..chainedLength) chain onto each other (messages[0] always counts). */
  readonly chainedLength: number;
  private _frames: SharedFrame[] | undefined;

  constructor(
    readonly roomId: string,
    /** The room's fresh messages of one batch, ascending, at least one. */
    readonly messages: readonly Message[],
  ) {
    let n = 1;
    while (n < messages.length && (messages[n].prevSeq ?? -1) === messages[n - 1].seq) n++;
    this.chainedLength = n;
  }

  /** The predecessor a cursor must be at for this batch to continue its stream. */
  get startsAfter(): number {
    return this.messages[0].prevSeq ?? -1;
  }

  /** The chained run in frames, built on first use (no subscriber at the head: never built). */
  get frames(): readonly SharedFrame[] {
    if (!this._frames) {
      const frames: SharedFrame[] = [];
      for (let i = 0; i < this.chainedLength; i += MAX_MESSAGES_PER_EMIT) {
        frames.push(new SharedFrame(this.roomId, this.messages.slice(i, Math.min(i + MAX_MESSAGES_PER_EMIT, this.chainedLength))));
      }
      this._frames = frames;
    }
    return this._frames;
  }
}
