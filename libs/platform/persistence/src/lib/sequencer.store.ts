/**
 * Write side of the ordering worker, where PostgreSQL is the truth about progress.
 *
 * Fencing: a worker owns a partition only through a claim, which bumps that partition's
 * `generation` (per epoch). Every batch commit locks the position row (`FOR UPDATE`) and checks
 * the generation and the expected `next_offset`, and holds the epoch row `FOR SHARE` so an epoch
 * rotation cannot interleave. A worker that lost the partition therefore cannot write anything,
 * however late its batch arrives. Messages, dead letters and the new `next_offset` commit in one
 * transaction, so a crash leaves either all of a batch or none of it.
 *
 * Outbox: `published_offset` trails `next_offset` until the batch's messages are on the events
 * topic; a new owner republishes everything from `published_offset` (at-least-once, consumers
 * dedupe by seq).
 */
import type { Message } from '@seqcast/contracts';
import type { DataSource, EntityManager } from 'typeorm';
import { EPOCH_KEY, MessageEntity } from './entities';
import { newEpoch } from './database';
import { toMessage } from './message.mapping';

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
  roomIds: string[];
  ids: IdempotencyKey[];
  /** Pure decision, run inside the transaction after the fence check. */
  sequence(known: KnownState): R;
  /** Test hook: runs after the inserts, before COMMIT; throwing rolls everything back. */
  beforeCommit?: (result: R) => Promise<void>;
}

export type CommitOutcome<R> = { status: 'committed'; result: R } | { status: 'fenced'; reason: string };

export class SequencerStore {
  constructor(private readonly dataSource: DataSource) {}

  async currentEpoch(): Promise<string> {
    const rows: { value: string }[] = await this.dataSource.query(`SELECT value FROM seqcast_meta WHERE key = $1`, [
      EPOCH_KEY,
    ]);
    if (!rows[0]) throw new Error('seqcast_meta has no epoch: the database was not opened with openDatabase()');
    return rows[0].value;
  }

  /** Take the partition in the current epoch: creates its row if new, bumps the generation. */
  async claim(request: ClaimRequest): Promise<PartitionClaim> {
    return this.dataSource.transaction(async (manager) => {
      const epoch = await lockEpoch(manager);
      await manager.query(
        `INSERT INTO seqcast_partition_positions
           (epoch, topic, partition, next_offset, published_offset, generation, owner, updated_at)
         VALUES ($1, $2, $3, $4, $4, 0, $5, now())
         ON CONFLICT (epoch, topic, partition) DO NOTHING`,
        [epoch, request.topic, request.partition, request.initialOffset, request.owner],
      );
      // node-postgres via TypeORM answers an UPDATE with [rows, rowCount].
      const [rows]: [{ next_offset: string; published_offset: string; generation: string }[], number] =
        await manager.query(
          `UPDATE seqcast_partition_positions
            SET generation = generation + 1, owner = $4, updated_at = now()
          WHERE epoch = $1 AND topic = $2 AND partition = $3
          RETURNING next_offset, published_offset, generation`,
          [epoch, request.topic, request.partition, request.owner],
        );
      const row = firstRow(rows);
      return {
        epoch,
        topic: request.topic,
        partition: request.partition,
        owner: request.owner,
        generation: Number(row.generation),
        nextOffset: Number(row.next_offset),
        publishedOffset: Number(row.published_offset),
      };
    });
  }

  /**
   * Compare-and-set the epoch away from `fromEpoch`. Idempotent across workers: whoever comes
   * second finds the epoch already changed and just gets the current value.
   */
  async rotateEpoch(fromEpoch: string): Promise<{ epoch: string; rotated: boolean }> {
    const next = newEpoch();
    const result: [unknown[], number] = await this.dataSource.query(
      `UPDATE seqcast_meta SET value = $1 WHERE key = $2 AND value = $3`,
      [next, EPOCH_KEY, fromEpoch],
    );
    if (result[1] === 1) return { epoch: next, rotated: true };
    return { epoch: await this.currentEpoch(), rotated: false };
  }

  /**
   * Move a claimed partition forward without sequencing, for records that no longer exist
   * (deleted by retention before we read them). `published_offset` stays: stored messages below
   * the skip may still await publishing. False when fenced or not a move forward.
   */
  async skipTo(claim: PartitionClaim, offset: number): Promise<boolean> {
    const result: [unknown[], number] = await this.dataSource.query(
      `UPDATE seqcast_partition_positions
          SET next_offset = $5, updated_at = now()
        WHERE epoch = $1 AND topic = $2 AND partition = $3 AND generation = $4 AND next_offset < $5`,
      [claim.epoch, claim.topic, claim.partition, claim.generation, offset],
    );
    return result[1] === 1;
  }

  /** One batch, atomically: fence check, sequencing, inserts, new position. */
  async commitBatch<R extends SequencedBatch>(claim: PartitionClaim, write: BatchWrite<R>): Promise<CommitOutcome<R>> {
    return this.dataSource.transaction(async (manager) => {
      const epoch = await lockEpoch(manager);
      if (epoch !== claim.epoch) return fenced(`epoch rotated from ${claim.epoch} to ${epoch}`);
      const rows: { generation: string; next_offset: string }[] = await manager.query(
        `SELECT generation, next_offset FROM seqcast_partition_positions
          WHERE epoch = $1 AND topic = $2 AND partition = $3 FOR UPDATE`,
        [claim.epoch, claim.topic, claim.partition],
      );
      const row = rows[0];
      if (!row) return fenced('position row is gone');
      if (Number(row.generation) !== claim.generation) {
        return fenced(`generation is ${row.generation}, this claim holds ${claim.generation}`);
      }
      if (Number(row.next_offset) !== write.fromOffset) {
        return fenced(`position is ${row.next_offset}, expected ${write.fromOffset}`);
      }

      const result = write.sequence(await loadKnownState(manager, claim.epoch, write));
      await insertMessages(manager, claim.partition, result.messages, result.fingerprints);
      await insertDeadLetters(manager, claim, result.deadLetters);
      await manager.query(
        `UPDATE seqcast_partition_positions SET next_offset = $4, updated_at = now()
          WHERE epoch = $1 AND topic = $2 AND partition = $3`,
        [claim.epoch, claim.topic, claim.partition, write.nextOffset],
      );
      if (write.beforeCommit) await write.beforeCommit(result);
      return { status: 'committed' as const, result };
    });
  }

  /** Record that every message with seq < `offset` is on the events topic. False when fenced. */
  async markPublished(claim: PartitionClaim, offset: number): Promise<boolean> {
    const result: [unknown[], number] = await this.dataSource.query(
      `UPDATE seqcast_partition_positions
          SET published_offset = GREATEST(published_offset, $5), updated_at = now()
        WHERE epoch = $1 AND topic = $2 AND partition = $3 AND generation = $4`,
      [claim.epoch, claim.topic, claim.partition, claim.generation, offset],
    );
    return result[1] === 1;
  }

  /** Stored messages of the claimed partition with seq >= fromSeq, ascending, for the outbox. */
  async findUnpublished(claim: PartitionClaim, fromSeq: number, limit: number): Promise<Message[]> {
    const rows = await this.dataSource
      .getRepository(MessageEntity)
      .createQueryBuilder('m')
      .where('m.epoch = :epoch AND m.partition = :partition AND m.seq >= :fromSeq', {
        epoch: claim.epoch,
        partition: claim.partition,
        fromSeq,
      })
      .orderBy('m.seq', 'ASC')
      .limit(limit)
      .getMany();
    return rows.map(toMessage);
  }
}

function fenced(reason: string): CommitOutcome<never> {
  return { status: 'fenced', reason };
}

function firstRow<T>(rows: T[]): T {
  const [row] = rows;
  if (!row) throw new Error('expected a row');
  return row;
}

/** Read the epoch and hold it: rotation (an UPDATE) waits until this transaction ends. */
async function lockEpoch(manager: EntityManager): Promise<string> {
  const rows: { value: string }[] = await manager.query(`SELECT value FROM seqcast_meta WHERE key = $1 FOR SHARE`, [
    EPOCH_KEY,
  ]);
  if (!rows[0]) throw new Error('seqcast_meta has no epoch: the database was not opened with openDatabase()');
  return rows[0].value;
}

async function loadKnownState(
  manager: EntityManager,
  epoch: string,
  lookup: { roomIds: string[]; ids: IdempotencyKey[] },
): Promise<KnownState> {
  const stored = new Map<string, StoredCopy>();
  const heads = new Map<string, number>();
  if (lookup.ids.length > 0) {
    const rows: { room_id: string; sender_id: string; client_msg_id: string; seq: string; fp: string | null }[] =
      await manager.query(
        `SELECT m.room_id, m.sender_id, m.client_msg_id, m.seq, m.payload_fingerprint AS fp
           FROM seqcast_messages m
           JOIN unnest($2::text[], $3::text[], $4::text[]) AS q(room_id, sender_id, client_msg_id)
             ON m.room_id = q.room_id AND m.sender_id = q.sender_id AND m.client_msg_id = q.client_msg_id
          WHERE m.epoch = $1`,
        [
          epoch,
          lookup.ids.map((id) => id.roomId),
          lookup.ids.map((id) => id.senderId),
          lookup.ids.map((id) => id.clientMsgId),
        ],
      );
    for (const row of rows) {
      const key = idempotencyKey({ roomId: row.room_id, senderId: row.sender_id, clientMsgId: row.client_msg_id });
      stored.set(key, { seq: Number(row.seq), fingerprint: row.fp });
    }
  }
  if (lookup.roomIds.length > 0) {
    // One backward index probe per room rather than max() over each room's whole history.
    const rows: { room_id: string; head: string | null }[] = await manager.query(
      `SELECT r.room_id,
              (SELECT m.seq FROM seqcast_messages m
                WHERE m.epoch = $1 AND m.room_id = r.room_id ORDER BY m.seq DESC LIMIT 1) AS head
         FROM unnest($2::text[]) AS r(room_id)`,
      [epoch, [...new Set(lookup.roomIds)]],
    );
    for (const row of rows) if (row.head !== null) heads.set(row.room_id, Number(row.head));
  }
  return { stored, heads };
}

async function insertMessages(
  manager: EntityManager,
  partition: number,
  messages: Message[],
  fingerprints: (string | null)[] = [],
): Promise<void> {
  if (messages.length === 0) return;
  // unnest keeps this one statement with a fixed parameter count whatever the batch size, and
  // lets a JSON `null` payload be stored as jsonb 'null' (TypeORM would write SQL NULL).
  await manager.query(
    `INSERT INTO seqcast_messages
       (epoch, room_id, seq, prev_seq, partition, client_msg_id, sender_id, payload, payload_fingerprint, sent_at,
        sequenced_at)
     SELECT r.epoch, r.room_id, r.seq, r.prev_seq, $1, r.client_msg_id, r.sender_id, r.payload, r.fp, r.sent_at,
            r.sequenced_at
       FROM unnest($2::text[], $3::text[], $4::int8[], $5::int8[], $6::text[], $7::text[], $8::jsonb[], $9::text[],
                   $10::timestamptz[], $11::timestamptz[])
         AS r(epoch, room_id, seq, prev_seq, client_msg_id, sender_id, payload, fp, sent_at, sequenced_at)`,
    [
      partition,
      messages.map((m) => m.epoch),
      messages.map((m) => m.roomId),
      messages.map((m) => String(m.seq)),
      messages.map((m) => (m.prevSeq === null ? null : String(m.prevSeq))),
      messages.map((m) => m.clientMsgId),
      messages.map((m) => m.senderId),
      messages.map((m) => JSON.stringify(m.payload)),
      messages.map((_, i) => fingerprints[i] ?? null),
      messages.map((m) => m.sentAt),
      messages.map((m) => m.sequencedAt),
    ],
  );
}

async function insertDeadLetters(
  manager: EntityManager,
  ref: PartitionRef,
  letters: DeadLetterRecord[],
): Promise<void> {
  if (letters.length === 0) return;
  // Offsets restart when the input topic is recreated (new epoch); the newest letter wins.
  await manager.query(
    `INSERT INTO seqcast_dead_letters (topic, partition, "offset", reason, key, value, created_at)
     SELECT $1, $2, r.o, r.reason, r.key, r.value, now()
       FROM unnest($3::int8[], $4::text[], $5::text[], $6::text[]) AS r(o, reason, key, value)
     ON CONFLICT (topic, partition, "offset")
     DO UPDATE SET reason = EXCLUDED.reason, key = EXCLUDED.key, value = EXCLUDED.value, created_at = now()`,
    [
      ref.topic,
      ref.partition,
      letters.map((l) => String(l.offset)),
      letters.map((l) => l.reason),
      letters.map((l) => l.key),
      letters.map((l) => l.value),
    ],
  );
}
