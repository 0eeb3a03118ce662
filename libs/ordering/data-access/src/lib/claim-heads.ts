/**
 * Room heads the store has seen under each live claim, so that a batch whose rooms are all known
 * can be written without reading first (PostgresSequencerStore's one-round-trip path).
 *
 * Why a head learned here stays true: a room is written only by its partition's batches, and only
 * the holder of the partition's current generation can write (every write re-checks the fence).
 * So while a claim holds, the room's head in the database is whatever this store last read or
 * committed for it; once the claim is lost, its writes are fenced whatever the cache says, and the
 * next claim (a new generation) starts empty. History retention never deletes a room's newest
 * message, so it cannot move a head either.
 */
import type { PartitionClaim } from '@seqcast/ordering-domain';
import { LRUCache } from 'lru-cache';

/**
 * Rooms remembered per claimed partition; the least recently used go first. A forgotten room costs
 * its next batch one read, so the bound only trades memory (a few MB at 12 partitions) for reads.
 */
export const DEFAULT_ROOMS_PER_PARTITION = 4_096;

/** A room known to have no message in the claim's epoch (seqs are offsets, never negative). */
const NO_MESSAGES = -1;

interface ClaimEntry {
  epoch: string;
  generation: number;
  /** roomId → its highest stored seq, or NO_MESSAGES. */
  heads: LRUCache<string, number>;
}

export class ClaimHeads {
  private readonly claims = new Map<string, ClaimEntry>();

  constructor(private readonly roomsPerPartition = DEFAULT_ROOMS_PER_PARTITION) {
    if (!Number.isInteger(roomsPerPartition) || roomsPerPartition < 0) {
      throw new Error(`roomsPerPartition must be a whole number, 0 or more (got ${roomsPerPartition})`);
    }
  }

  /** Every room's head (rooms without messages left out), or undefined when any room is unknown. */
  known(claim: PartitionClaim, roomIds: readonly string[]): Map<string, number> | undefined {
    const entry = this.entry(claim, false);
    if (!entry) return undefined;
    const heads = new Map<string, number>();
    for (const roomId of roomIds) {
      const head = entry.heads.get(roomId);
      if (head === undefined) return undefined;
      if (head !== NO_MESSAGES) heads.set(roomId, head);
    }
    return heads;
  }

  /** What a read under this claim found: `heads` holds the rooms that have messages. */
  learn(claim: PartitionClaim, roomIds: readonly string[], heads: ReadonlyMap<string, number>): void {
    const entry = this.entry(claim, true);
    for (const roomId of roomIds) entry?.heads.set(roomId, heads.get(roomId) ?? NO_MESSAGES);
  }

  /** A committed batch: each message is its room's new head (messages come in seq order). */
  advance(claim: PartitionClaim, messages: readonly { roomId: string; seq: number }[]): void {
    const entry = this.entry(claim, true);
    for (const message of messages) entry?.heads.set(message.roomId, message.seq);
  }

  /** The claim was fenced or a write ended in doubt: nothing learned under it is trusted any more. */
  forget(claim: PartitionClaim): void {
    if (this.entry(claim, false)) this.claims.delete(partitionKey(claim));
  }

  /** The claim's entry; a newer claim of the partition replaces an older one's. */
  private entry(claim: PartitionClaim, create: boolean): ClaimEntry | undefined {
    if (this.roomsPerPartition === 0) return undefined;
    const key = partitionKey(claim);
    const entry = this.claims.get(key);
    if (entry && entry.generation === claim.generation && entry.epoch === claim.epoch) return entry;
    if (!create) return undefined;
    // An older claim's entry is dropped (its writes are fenced anyway); a stale claim adds nothing.
    if (entry && entry.epoch === claim.epoch && entry.generation > claim.generation) return undefined;
    const fresh: ClaimEntry = {
      epoch: claim.epoch,
      generation: claim.generation,
      heads: new LRUCache<string, number>({ max: this.roomsPerPartition }),
    };
    this.claims.set(key, fresh);
    return fresh;
  }
}

function partitionKey(claim: Pick<PartitionClaim, 'topic' | 'partition'>): string {
  return `${claim.topic}\u0000${claim.partition}`;
}
