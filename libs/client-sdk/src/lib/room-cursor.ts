/**
 * The per-room delivery rule, pure: against the room's cursor, a message is already delivered,
 * chains on (deliver it), or leaves a gap (something between is missing).
 */
import type { Message } from '@seqcast/contracts/wire';
import type { Cursor } from './cursor-store';

export type Arrival = 'delivered-already' | 'chains' | 'gap';

/**
 * `acceptAnyFirst`: after a reset or truncation the first message cannot chain onto anything we
 * hold, so any message of the cursor's epoch is accepted.
 */
export function classifyArrival(cursor: Cursor, message: Message, acceptAnyFirst: boolean): Arrival {
  if (message.epoch === cursor.epoch && message.seq <= cursor.seq) return 'delivered-already';
  const chains = message.epoch === cursor.epoch && (message.prevSeq ?? -1) === cursor.seq;
  if (chains || (acceptAnyFirst && message.epoch === cursor.epoch)) return 'chains';
  return 'gap';
}

/** Heals in a row that ended at the same cursor: the gateway cannot fill that gap. */
export interface FutileHeals {
  seq: number;
  count: number;
}

export const NO_FUTILE_HEALS: FutileHeals = { seq: -1, count: 0 };

/** One more heal that left the cursor at `cursorSeq`. */
export function countFutileHeal(heals: FutileHeals, cursorSeq: number): FutileHeals {
  return heals.seq === cursorSeq ? { seq: cursorSeq, count: heals.count + 1 } : { seq: cursorSeq, count: 1 };
}
