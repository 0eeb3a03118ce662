/**
 * The sequencer's port to its store: what the ordering worker needs from wherever the truth about
 * progress lives (PostgreSQL in production, see @seqcast/ordering-data-access). The domain owns
 * these types so that the sequencing rule never depends on a database library.
 *
 * The contract: a partition is written only through a claim (its generation); every write is
 * refused ("fenced") once a newer claim exists; a batch's messages, dead letters and new position
 * are stored all or nothing; `published_offset` trails `next_offset` until the batch's events are
 * on the events topic (the outbox).
 */
import type { Message } from '@seqcast/contracts';

export interface PartitionRef {
  topic: string;
  partition: number;
}

/** A worker's hold on one partition of the input topic, within one epoch. */
export interface PartitionClaim extends PartitionRef {
  readonly epoch: string;
  readonly generation: number;
  readonly owner: string;
  /** Position when claimed: the first offset not yet sequenced. */
  readonly nextOffset: number;
  /** Messages with seq >= this may not be on the events topic yet. */
  readonly publishedOffset: number;
}

export interface ClaimRequest extends PartitionRef {
  owner: string;
  /** Where a partition never seen in the current epoch starts: the log start offset. */
  initialOffset: number;
}

/** The idempotency key of a message: who sent which clientMsgId to which room. */
export interface IdempotencyKey {
  roomId: string;
  senderId: string;
  clientMsgId: string;
}

/** The key as one string, for maps: room ids and clientMsgIds cannot contain NUL, stored senderIds neither. */
export function idempotencyKey(key: IdempotencyKey): string {
  return `${key.roomId}\u0000${key.senderId}\u0000${key.clientMsgId}`;
}

/** A message already stored under an idempotency key. */
export interface StoredCopy {
  seq: number;
  /** payloadFingerprint() of its payload; null for rows written before fingerprints existed. */
  fingerprint: string | null;
}

/** What the store already knows about the rooms and ids of a batch (current epoch). */
export interface KnownState {
  /** idempotencyKey() → the stored message, limited to the keys asked for. */
  stored: ReadonlyMap<string, StoredCopy>;
  /** roomId → highest stored seq, only for rooms that have messages. */
  heads: ReadonlyMap<string, number>;
}

export interface DeadLetterRecord {
  offset: number;
  reason: string;
  /** Already text-safe: UTF-8 without NUL as is, otherwise `base64:` + base64. */
  key: string | null;
  value: string | null;
}

export interface SequencedBatch {
  messages: Message[];
  /** payloadFingerprint() of `messages[i].payload`, stored beside it; absent or null: none stored. */
  fingerprints?: (string | null)[];
  deadLetters: DeadLetterRecord[];
}

export interface BatchWrite<R extends SequencedBatch> {
  /** The offset the worker believes is next; the commit is refused if the row says otherwise. */
  fromOffset: number;
  /** The new position: last offset of the batch + 1. */
  nextOffset: number;
  /**
   * Every message with seq < this is on the events topic: recorded with this write (never
   * lowered), saving the separate markPublished of the previous batch.
   */
  publishedOffset?: number;
  roomIds: string[];
  ids: IdempotencyKey[];
  /**
   * Pure decision: it must depend on `known` alone, because a store may run it more than once per
   * commit (PostgreSQL's first runs it on remembered room heads with nothing stored, and again on
   * what its read found if a key turns out to be stored). Only the result that is written counts.
   */
  sequence(known: KnownState): R;
  /** Test hook: runs after the write, before COMMIT (the write then runs in an explicit transaction); throwing rolls everything back. */
  beforeCommit?: (result: R) => Promise<void>;
}

export type CommitOutcome<R> = { status: 'committed'; result: R } | { status: 'fenced'; reason: string };

/** One partition's batch in a group commit (`SequencerStore.commitBatches`). */
export interface GroupedBatch<R extends SequencedBatch> {
  claim: PartitionClaim;
  write: BatchWrite<R>;
}

/** A group member's outcome: its own commit outcome, or the error of its own sequencing step. */
export type GroupedOutcome<R> = CommitOutcome<R> | { status: 'failed'; error: unknown };

/** The fenced store the ordering worker sequences into. */
export interface SequencerStore {
  currentEpoch(): Promise<string>;
  /** Take the partition in the current epoch: creates its position if new, bumps the generation. */
  claim(request: ClaimRequest): Promise<PartitionClaim>;
  /** Compare-and-set: a new epoch unless another worker rotated `fromEpoch` already. */
  rotateEpoch(fromEpoch: string): Promise<{ epoch: string; rotated: boolean }>;
  /** Moves the position forward over records that vanished; false when fenced. */
  skipTo(claim: PartitionClaim, offset: number): Promise<boolean>;
  /** One batch, all or nothing, only while the claim holds. */
  commitBatch<R extends SequencedBatch>(claim: PartitionClaim, write: BatchWrite<R>): Promise<CommitOutcome<R>>;
  /**
   * Group commit: batches of distinct partitions of one epoch, no `beforeCommit`, in ONE
   * transaction. Each is fenced on its own: a fenced member writes nothing and is answered
   * `fenced`, and does not stop the others. Throws (all rolled back) only on a database error.
   */
  commitBatches?<R extends SequencedBatch>(batches: GroupedBatch<R>[]): Promise<GroupedOutcome<R>[]>;
  /** Records that events below `offset` are on the topic; false when fenced. */
  markPublished(claim: PartitionClaim, offset: number): Promise<boolean>;
  /** Stored messages of the claim's partition with seq >= fromSeq, ascending (the outbox). */
  findUnpublished(claim: PartitionClaim, fromSeq: number, limit: number): Promise<Message[]>;
}
