/**
 * History retention (HISTORY_RETENTION_HOURS): deleting messages older than a cutoff, a small batch
 * at a time, without ever breaking what readers rely on:
 * - a room's newest message is never deleted, so `headSeq` stays meaningful and the next message's
 *   `prevSeq` still points at a stored row;
 * - a message not yet on the events topic (seq >= its partition's `published_offset`) is never
 *   deleted, so the outbox cannot lose it.
 * The first message left after a pruned stretch keeps its `prevSeq`, which now names a deleted seq:
 * that is how a reader detects the truncation (the first message after `afterSeq` has
 * `prevSeq > afterSeq`).
 * Deleting a message also forgets its clientMsgId, so a publisher retrying it after the retention
 * window would create a new message: retention must be far longer than any client's retry horizon.
 */
import type { DataSource } from 'typeorm';

export interface PruneBatch {
  /** The messages topic: positions (and so `published_offset`) are kept per input topic. */
  topic: string;
  /** Only these partitions (the worker prunes what it is assigned); any epoch. */
  partitions: number[];
  /** Messages sequenced strictly before this instant may go. */
  olderThan: Date;
  /** Rows per DELETE; small, so each statement holds its locks only briefly. */
  limit: number;
}

/** Deletes at most `limit` prunable messages, oldest first; returns how many it deleted. */
export async function pruneHistoryBatch(dataSource: DataSource, batch: PruneBatch): Promise<number> {
  if (batch.partitions.length === 0 || batch.limit < 1) return 0;
  // SKIP LOCKED: two workers briefly pruning the same partition (mid-rebalance) never wait on each other.
  const result: [unknown[], number] = await dataSource.query(
    `WITH doomed AS (
       SELECT m.epoch, m.room_id, m.seq
         FROM seqcast_messages m
         JOIN seqcast_partition_positions p
           ON p.epoch = m.epoch AND p.topic = $1 AND p.partition = m.partition
        WHERE m.partition = ANY($2::int[])
          AND m.sequenced_at < $3
          AND m.seq < p.published_offset
          AND EXISTS (SELECT 1 FROM seqcast_messages n
                       WHERE n.epoch = m.epoch AND n.room_id = m.room_id AND n.seq > m.seq)
        ORDER BY m.sequenced_at
        LIMIT $4
        FOR UPDATE OF m SKIP LOCKED)
     DELETE FROM seqcast_messages d
      USING doomed
      WHERE d.epoch = doomed.epoch AND d.room_id = doomed.room_id AND d.seq = doomed.seq`,
    [batch.topic, batch.partitions, batch.olderThan, batch.limit],
  );
  return result[1];
}
