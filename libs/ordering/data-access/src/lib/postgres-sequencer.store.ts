/**
 * The ordering worker's SequencerStore port (@seqcast/ordering-domain) on PostgreSQL: the write side
 * of the ordering worker, where PostgreSQL is the truth about progress.
 *
 * Fencing: a worker owns a partition only through a claim, which bumps that partition's
 * `generation` (per epoch). Every batch write locks the position row (`FOR UPDATE`) and checks
 * the generation and the expected `next_offset`, and holds the epoch row `FOR SHARE` so an epoch
 * rotation cannot interleave. A worker that lost the partition therefore cannot write anything,
 * however late its batch arrives. Messages, dead letters and the new `next_offset` are written by
 * one statement (its own transaction), so a crash leaves either all of a batch or none of it.
 * commitBatches does the same for several partitions' batches in one read and one statement (group
 * commit), with the fence checked per partition.
 *
 * A batch costs two round trips: one read (fence pre-check, stored keys, room heads, one snapshot)
 * and one conditional write that re-checks the fence under the locks. What the read saw is still
 * true at the write when the fence holds: only the holder of the claim's generation moves
 * `next_offset` forward, and rooms are written only by their partition's batches, so a position
 * unchanged under the lock means no other batch of this partition committed in between.
 *
 * Usually it costs one: the same argument makes the room heads this store read or committed under
 * a claim true for as long as the claim holds (ClaimHeads), so a batch whose rooms are all known is
 * sequenced without reading and written at once, as if no key of it were stored. If one is (a retry
 * that crossed batches), the insert hits the idempotency key's unique index, the statement writes
 * nothing, and the batch takes the two-round-trip path, whose read finds the stored copy.
 *
 * Outbox: `published_offset` trails `next_offset` until the batch's messages are on the events
 * topic; a new owner republishes everything from `published_offset` (at-least-once, consumers
 * dedupe by seq). The worker may record a publish with the next batch's write (`publishedOffset`)
 * instead of a statement of its own: the value is raised only after the events were acknowledged,
 * so a crash in between leaves it lower than the truth, which costs republishing, never loss.
 */
import type { Message } from '@seqcast/contracts';
import {
  type BatchWrite,
  type ClaimRequest,
  type CommitOutcome,
  type GroupedBatch,
  type GroupedOutcome,
  type IdempotencyKey,
  idempotencyKey,
  type KnownState,
  type PartitionClaim,
  type SequencedBatch,
  type SequencerStore,
  type StoredCopy,
} from '@seqcast/ordering-domain';
import { EPOCH_KEY, MessageEntity, newEpoch, toMessage } from '@seqcast/persistence';
import type { Pool, PoolClient, QueryConfig, QueryResult } from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import { ClaimHeads, DEFAULT_ROOMS_PER_PARTITION } from './claim-heads';

/**
 * How a committed batch (or commit group) was written: `write` one statement, its rooms' heads
 * known; `read-write` a read first (rooms not known yet, or a beforeCommit hook); `retried` the
 * one statement met a stored idempotency key, so the read and a second write followed.
 */
export type CommitPath = 'write' | 'read-write' | 'retried';

export interface PostgresSequencerStoreOptions {
  /** Room heads remembered per claimed partition (0: always read first). */
  roomsPerPartition?: number;
  /** Called once per committed batch or group with the path it took (the worker counts them). */
  onCommit?: (path: CommitPath) => void;
}

/** The fast path's view of what is stored: nothing; the unique index catches the exceptions. */
const NOTHING_STORED: KnownState['stored'] = new Map();

export class PostgresSequencerStore implements SequencerStore {
  private readonly heads: ClaimHeads;

  constructor(
    private readonly dataSource: DataSource,
    private readonly options: PostgresSequencerStoreOptions = {},
  ) {
    this.heads = new ClaimHeads(options.roomsPerPartition ?? DEFAULT_ROOMS_PER_PARTITION);
  }

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

  /**
   * One batch, atomically: one statement when every room's head is known under this claim,
   * otherwise (or when that statement meets a stored key) a read (fence pre-check and what the
   * sequencer must know), sequencing, then one statement that re-checks the fence under its locks
   * and writes the messages, dead letters and new position (and the published position, when given).
   */
  async commitBatch<R extends SequencedBatch>(claim: PartitionClaim, write: BatchWrite<R>): Promise<CommitOutcome<R>> {
    const pool = this.pool();
    let retried = false;
    const heads = write.beforeCommit ? undefined : this.heads.known(claim, write.roomIds);
    if (heads) {
      const result = write.sequence({ stored: NOTHING_STORED, heads });
      const written = await this.inDoubt(
        [claim],
        runNamed(pool, writeBatchStatement(claim, write, result)).catch(storedKey),
      );
      if (written) return this.settle(claim, write, result, written.rows[0]?.moved === 1, 'write');
      retried = true;
    }
    const read = await runNamed(pool, readBatchStatement(claim, write));
    const refused = fenceFailure(claim, write, read.rows[0]);
    if (refused) return fenced(refused);
    const known = knownState(read.rows[0]);
    this.heads.learn(claim, write.roomIds, known.heads);
    const result = write.sequence(known);
    const statement = writeBatchStatement(claim, write, result);
    const path = retried ? 'retried' : 'read-write';
    if (!write.beforeCommit) {
      const written = await this.inDoubt([claim], runNamed(pool, statement));
      return this.settle(claim, write, result, written.rows[0]?.moved === 1, path);
    }
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const written = await runNamed(client, statement);
      if (written.rows[0]?.moved !== 1) {
        await client.query('ROLLBACK');
        return this.settle(claim, write, result, false, path);
      }
      await write.beforeCommit(result);
      await client.query('COMMIT');
      return this.settle(claim, write, result, true, path);
    } catch (error) {
      this.heads.forget(claim);
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /** A write whose failure may have committed (the reply was lost): forget the claims' heads. */
  private async inDoubt<T>(claims: PartitionClaim[], pending: Promise<T>): Promise<T> {
    try {
      return await pending;
    } catch (error) {
      for (const claim of claims) this.heads.forget(claim);
      throw error;
    }
  }

  /** Committed: the batch's messages are their rooms' heads now. Fenced: the claim's heads are void. */
  private async settle<R extends SequencedBatch>(
    claim: PartitionClaim,
    write: BatchWrite<R>,
    result: R,
    moved: boolean,
    path: CommitPath,
  ): Promise<CommitOutcome<R>> {
    if (!moved) {
      this.heads.forget(claim);
      return fenced(await this.fenceReason(claim, write));
    }
    this.heads.advance(claim, result.messages);
    this.options.onCommit?.(path);
    return { status: 'committed', result };
  }

  /**
   * Group commit: the batches of several partitions (one epoch, distinct partitions) in two round
   * trips and ONE commit, instead of two round trips and a commit each. One read takes every
   * member's fence pre-check, stored keys and room heads in one snapshot; one write statement then
   * re-checks each member's fence under its own position-row lock (locked in partition order) and
   * writes only the members whose fence holds, so a fenced member writes nothing and the others
   * commit. The read-then-write argument of commitBatch holds per member: rooms are written only by
   * their partition's batches, and a position unchanged under the lock means nothing of that
   * partition committed in between. When every member's rooms have known heads, the read is
   * skipped as in commitBatch (one round trip), and a stored key met by the write sends the whole
   * group down the read path.
   */
  async commitBatches<R extends SequencedBatch>(batches: GroupedBatch<R>[]): Promise<GroupedOutcome<R>[]> {
    const first = batches[0];
    if (!first) return [];
    const { epoch, topic } = first.claim;
    const partitions = new Set<number>();
    for (const { claim, write } of batches) {
      if (claim.epoch !== epoch || claim.topic !== topic) throw new Error('a commit group spans one epoch and topic');
      if (partitions.has(claim.partition)) throw new Error(`partition ${claim.partition} twice in one commit group`);
      if (write.beforeCommit) throw new Error('beforeCommit hooks run through commitBatch only');
      partitions.add(claim.partition);
    }
    const pool = this.pool();
    let retried = false;
    const allHeads = batches.map(({ claim, write }) => this.heads.known(claim, write.roomIds));
    if (allHeads.every((heads) => heads !== undefined)) {
      const outcomes: GroupedOutcome<R>[] = [];
      const writes: GroupMember<R>[] = [];
      batches.forEach(({ claim, write }, index) => {
        try {
          const heads = allHeads[index] ?? new Map<string, number>();
          writes.push({ claim, write, result: write.sequence({ stored: NOTHING_STORED, heads }), index });
        } catch (error) {
          outcomes[index] = { status: 'failed', error };
        }
      });
      if (writes.length === 0) return outcomes;
      const claims = writes.map((w) => w.claim);
      const written = await this.inDoubt(
        claims,
        runNamed(pool, writeGroupStatement(first.claim, writes)).catch(storedKey),
      );
      if (written) return this.settleGroup(written, writes, outcomes, 'write');
      retried = true;
    }
    const read = await runNamed(
      pool,
      readGroupStatement(first.claim, [...partitions], {
        roomIds: batches.flatMap((b) => b.write.roomIds),
        ids: batches.flatMap((b) => b.write.ids),
      }),
    );
    const row = read.rows[0] as GroupReadRow | undefined;
    if (!row?.current_epoch)
      throw new Error('seqcast_meta has no epoch: the database was not opened with openDatabase()');
    const known = knownState(row);
    const positions = new Map(
      (row.positions ?? []).map(([partition, generation, next]) => [partition, { generation, next }]),
    );
    const outcomes: GroupedOutcome<R>[] = [];
    const writes: GroupMember<R>[] = [];
    batches.forEach(({ claim, write }, index) => {
      const position = positions.get(claim.partition);
      const refused = fenceFailure(claim, write, {
        current_epoch: row.current_epoch,
        generation: position ? String(position.generation) : null,
        next_offset: position ? String(position.next) : null,
        stored: [],
        heads: [],
      });
      if (refused) {
        outcomes[index] = fenced(refused);
        return;
      }
      this.heads.learn(claim, write.roomIds, known.heads);
      try {
        const result = write.sequence(known);
        writes.push({ claim, write, result, index });
      } catch (error) {
        outcomes[index] = { status: 'failed', error };
      }
    });
    if (writes.length === 0) return outcomes;
    const claims = writes.map((w) => w.claim);
    const written = await this.inDoubt(claims, runNamed(pool, writeGroupStatement(first.claim, writes)));
    return this.settleGroup(written, writes, outcomes, retried ? 'retried' : 'read-write');
  }

  /** Each written member: committed if its partition moved, otherwise fenced (and its heads void). */
  private async settleGroup<R extends SequencedBatch>(
    written: QueryResult,
    writes: GroupMember<R>[],
    outcomes: GroupedOutcome<R>[],
    path: CommitPath,
  ): Promise<GroupedOutcome<R>[]> {
    const moved = new Set<number>((written.rows[0]?.moved ?? []).map(Number));
    for (const { claim, write, result, index } of writes) {
      if (moved.has(claim.partition)) {
        this.heads.advance(claim, result.messages);
        outcomes[index] = { status: 'committed', result };
      } else {
        this.heads.forget(claim);
        outcomes[index] = fenced(await this.fenceReason(claim, write));
      }
    }
    if (moved.size > 0) this.options.onCommit?.(path);
    return outcomes;
  }

  /** Why the write found the fence closed (only on that path: one more read). */
  private async fenceReason(claim: PartitionClaim, write: { fromOffset: number }): Promise<string> {
    const read = await runNamed(this.pool(), readBatchStatement(claim, { ...write, roomIds: [], ids: [] }));
    return fenceFailure(claim, write, read.rows[0]) ?? 'the position changed while the batch was written';
  }

  /** node-postgres' pool under TypeORM: the batch path runs named (prepared) statements on it directly. */
  private pool(): Pool {
    const pool = (this.dataSource.driver as unknown as { master?: Pool }).master;
    if (!pool) throw new Error('the data source is not connected to PostgreSQL');
    return pool;
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

interface BatchReadRow {
  current_epoch: string | null;
  generation: string | null;
  next_offset: string | null;
  /** [room_id, sender_id, client_msg_id, seq, payload_fingerprint][] */
  stored: [string, string, string, number, string | null][];
  /** [room_id, head seq][] for rooms that have messages */
  heads: [string, number][];
}

/**
 * The lookups both batch reads share: the stored copies of the idempotency keys ($5-$7) and each
 * room's head ($8) in epoch $1, as `stored` and `heads` columns.
 */
const STORED_AND_HEADS_SQL = `COALESCE((SELECT json_agg(json_build_array(q.room_id, q.sender_id, q.client_msg_id, s.seq,
                                                             s.payload_fingerprint))
                              FROM unnest($5::text[], $6::text[], $7::text[]) AS q(room_id, sender_id, client_msg_id)
                              CROSS JOIN LATERAL (SELECT m.seq, m.payload_fingerprint FROM seqcast_messages m
                                                   WHERE m.epoch = $1 AND m.room_id = q.room_id
                                                     AND m.sender_id = q.sender_id AND m.client_msg_id = q.client_msg_id
                                                   LIMIT 1) AS s), '[]') AS stored,
                  COALESCE((SELECT json_agg(json_build_array(r.room_id, h.seq))
                              FROM unnest($8::text[]) AS r(room_id)
                              CROSS JOIN LATERAL (SELECT m.seq FROM seqcast_messages m
                                                   WHERE m.epoch = $1 AND m.room_id = r.room_id
                                                   ORDER BY m.seq DESC LIMIT 1) AS h), '[]') AS heads`;

/**
 * The read of a batch, one snapshot: current epoch, the claim's position row, the stored copies
 * of the batch's idempotency keys (one unique-index probe per key) and each room's head (one
 * backward index probe per room). Both lookups are LATERAL with LIMIT 1 so that the plan is index
 * probes whatever the statistics say: a worker prepares this statement on a young database, and a
 * plain join planned then (a few rows expected) became a hash join over every message of the epoch,
 * kept as the generic plan while the table grew (docs/benchmarks.md, "The ordering worker's batch
 * transaction").
 */
export function readBatchStatement(
  claim: PartitionClaim,
  lookup: { roomIds: string[]; ids: IdempotencyKey[] },
): QueryConfig {
  return {
    name: 'seqcast_batch_read_v3',
    text: `SELECT (SELECT value FROM seqcast_meta WHERE key = $4) AS current_epoch,
                  p.generation, p.next_offset,
                  ${STORED_AND_HEADS_SQL}
             FROM (SELECT 1) AS one
             LEFT JOIN seqcast_partition_positions p ON p.epoch = $1 AND p.topic = $2 AND p.partition = $3`,
    values: [
      claim.epoch,
      claim.topic,
      claim.partition,
      EPOCH_KEY,
      lookup.ids.map((id) => id.roomId),
      lookup.ids.map((id) => id.senderId),
      lookup.ids.map((id) => id.clientMsgId),
      [...new Set(lookup.roomIds)],
    ],
  };
}

interface GroupMember<R extends SequencedBatch> {
  claim: PartitionClaim;
  write: BatchWrite<R>;
  result: R;
  /** The member's place in the caller's list (outcomes are answered in that order). */
  index: number;
}

interface GroupReadRow {
  current_epoch: string | null;
  /** [partition, generation, next_offset][] for the members' position rows that exist */
  positions: [number, number, number][] | null;
  stored: BatchReadRow['stored'];
  heads: BatchReadRow['heads'];
}

/**
 * The read of a commit group, one snapshot: readBatchStatement's lookups for the union of the
 * members' keys and rooms (a room belongs to one partition, so each member finds its own), and the
 * position rows of all members' partitions.
 */
export function readGroupStatement(
  claim: Pick<PartitionClaim, 'epoch' | 'topic'>,
  partitions: number[],
  lookup: { roomIds: string[]; ids: IdempotencyKey[] },
): QueryConfig {
  return {
    name: 'seqcast_group_read_v1',
    text: `SELECT (SELECT value FROM seqcast_meta WHERE key = $3) AS current_epoch,
                  (SELECT json_agg(json_build_array(p.partition, p.generation, p.next_offset))
                     FROM seqcast_partition_positions p
                    WHERE p.epoch = $1 AND p.topic = $2 AND p.partition = ANY($4::int[])) AS positions,
                  ${STORED_AND_HEADS_SQL}`,
    values: [
      claim.epoch,
      claim.topic,
      EPOCH_KEY,
      partitions,
      lookup.ids.map((id) => id.roomId),
      lookup.ids.map((id) => id.senderId),
      lookup.ids.map((id) => id.clientMsgId),
      [...new Set(lookup.roomIds)],
    ],
  };
}

/**
 * The write of a commit group as one statement (one transaction): writeBatchStatement with a fence
 * per member. `fence` locks, in partition order, the position row of every member whose generation
 * and expected next_offset still hold (and the epoch row FOR SHARE); messages, dead letters and
 * positions are written for those partitions only. `moved` lists them.
 */
function writeGroupStatement(
  claim: Pick<PartitionClaim, 'epoch' | 'topic'>,
  members: {
    claim: PartitionClaim;
    write: Pick<BatchWrite<SequencedBatch>, 'fromOffset' | 'nextOffset' | 'publishedOffset'>;
    result: SequencedBatch;
  }[],
): QueryConfig {
  const messages = members.flatMap(({ claim: c, result }) =>
    result.messages.map((m, i) => ({ partition: c.partition, m, fp: result.fingerprints?.[i] ?? null })),
  );
  const letters = members.flatMap(({ claim: c, result }) =>
    result.deadLetters.map((l) => ({ partition: c.partition, l })),
  );
  return {
    name: 'seqcast_group_write_v1',
    text: `WITH fence AS MATERIALIZED (
             SELECT p.partition, w.next_offset, w.published_offset FROM seqcast_partition_positions p
               JOIN unnest($3::int[], $4::int8[], $5::int8[], $6::int8[], $7::int8[])
                 AS w(partition, generation, from_offset, next_offset, published_offset)
                 ON p.partition = w.partition AND p.generation = w.generation AND p.next_offset = w.from_offset
               JOIN seqcast_meta e ON e.key = $8 AND e.value = p.epoch
              WHERE p.epoch = $1 AND p.topic = $2
              ORDER BY p.partition
              FOR UPDATE OF p FOR SHARE OF e
           ), inserted AS (
             INSERT INTO seqcast_messages
               (epoch, room_id, seq, prev_seq, partition, client_msg_id, sender_id, payload, payload_fingerprint,
                sent_at, sequenced_at)
             SELECT $1, r.room_id, r.seq, r.prev_seq, r.partition, r.client_msg_id, r.sender_id, r.payload, r.fp,
                    r.sent_at, r.sequenced_at
               FROM unnest($9::int[], $10::text[], $11::int8[], $12::int8[], $13::text[], $14::text[], $15::jsonb[],
                           $16::text[], $17::timestamptz[], $18::timestamptz[])
                 AS r(partition, room_id, seq, prev_seq, client_msg_id, sender_id, payload, fp, sent_at, sequenced_at)
              WHERE r.partition IN (SELECT f.partition FROM fence f)
             RETURNING 1
           ), lettered AS (
             -- Offsets restart when the input topic is recreated (new epoch); the newest letter wins.
             INSERT INTO seqcast_dead_letters (topic, partition, "offset", reason, key, value, created_at)
             SELECT $2, d.partition, d.o, d.reason, d.key, d.value, now()
               FROM unnest($19::int[], $20::int8[], $21::text[], $22::text[], $23::text[])
                 AS d(partition, o, reason, key, value)
              WHERE d.partition IN (SELECT f.partition FROM fence f)
             ON CONFLICT (topic, partition, "offset")
             DO UPDATE SET reason = EXCLUDED.reason, key = EXCLUDED.key, value = EXCLUDED.value, created_at = now()
             RETURNING 1
           ), moved AS (
             UPDATE seqcast_partition_positions p
                SET next_offset = f.next_offset,
                    published_offset = GREATEST(p.published_offset, f.published_offset), updated_at = now()
               FROM fence f
              WHERE p.epoch = $1 AND p.topic = $2 AND p.partition = f.partition
             RETURNING p.partition
           )
           SELECT ARRAY(SELECT partition FROM moved) AS moved, (SELECT count(*) FROM inserted)::int AS inserted,
                  (SELECT count(*) FROM lettered)::int AS lettered`,
    values: [
      claim.epoch,
      claim.topic,
      members.map((x) => x.claim.partition),
      members.map((x) => String(x.claim.generation)),
      members.map((x) => String(x.write.fromOffset)),
      members.map((x) => String(x.write.nextOffset)),
      members.map((x) => (x.write.publishedOffset === undefined ? null : String(x.write.publishedOffset))),
      EPOCH_KEY,
      messages.map((x) => x.partition),
      messages.map((x) => x.m.roomId),
      messages.map((x) => String(x.m.seq)),
      messages.map((x) => (x.m.prevSeq === null ? null : String(x.m.prevSeq))),
      messages.map((x) => x.m.clientMsgId),
      messages.map((x) => x.m.senderId),
      messages.map((x) => JSON.stringify(x.m.payload)),
      messages.map((x) => x.fp),
      messages.map((x) => x.m.sentAt),
      messages.map((x) => x.m.sequencedAt),
      letters.map((x) => x.partition),
      letters.map((x) => String(x.l.offset)),
      letters.map((x) => x.l.reason),
      letters.map((x) => x.l.key),
      letters.map((x) => x.l.value),
    ],
  };
}

/** Why this claim may not write (the same checks, in the same order, as the write's fence), or undefined. */
function fenceFailure(
  claim: PartitionClaim,
  write: { fromOffset: number },
  row: BatchReadRow | undefined,
): string | undefined {
  if (!row?.current_epoch)
    throw new Error('seqcast_meta has no epoch: the database was not opened with openDatabase()');
  if (row.current_epoch !== claim.epoch) return `epoch rotated from ${claim.epoch} to ${row.current_epoch}`;
  if (row.generation === null || row.next_offset === null) return 'position row is gone';
  if (Number(row.generation) !== claim.generation) {
    return `generation is ${row.generation}, this claim holds ${claim.generation}`;
  }
  if (Number(row.next_offset) !== write.fromOffset)
    return `position is ${row.next_offset}, expected ${write.fromOffset}`;
  return undefined;
}

function knownState(row: Pick<BatchReadRow, 'stored' | 'heads'> | undefined): KnownState {
  const stored = new Map<string, StoredCopy>();
  for (const [roomId, senderId, clientMsgId, seq, fingerprint] of row?.stored ?? []) {
    stored.set(idempotencyKey({ roomId, senderId, clientMsgId }), { seq: Number(seq), fingerprint });
  }
  const heads = new Map<string, number>((row?.heads ?? []).map(([roomId, seq]) => [roomId, Number(seq)]));
  return { stored, heads };
}

/**
 * The write of a batch as one statement: the fence (position row FOR UPDATE with the expected
 * generation and next_offset, epoch row FOR SHARE) gates every insert and the position update, so
 * a closed fence writes nothing and `moved` is 0. unnest keeps the parameter count fixed whatever
 * the batch size (so the statement is prepared once per connection) and lets a JSON `null`
 * payload be stored as jsonb 'null'.
 */
function writeBatchStatement(
  claim: PartitionClaim,
  write: Pick<BatchWrite<SequencedBatch>, 'fromOffset' | 'nextOffset' | 'publishedOffset'>,
  batch: SequencedBatch,
): QueryConfig {
  const { messages, deadLetters } = batch;
  const fingerprints = batch.fingerprints ?? [];
  return {
    name: 'seqcast_batch_write_v2',
    text: `WITH fence AS MATERIALIZED (
             SELECT p.epoch FROM seqcast_partition_positions p
               JOIN seqcast_meta e ON e.key = $8 AND e.value = p.epoch
              WHERE p.epoch = $1 AND p.topic = $2 AND p.partition = $3 AND p.generation = $4 AND p.next_offset = $5
              FOR UPDATE OF p FOR SHARE OF e
           ), inserted AS (
             INSERT INTO seqcast_messages
               (epoch, room_id, seq, prev_seq, partition, client_msg_id, sender_id, payload, payload_fingerprint,
                sent_at, sequenced_at)
             SELECT $1, r.room_id, r.seq, r.prev_seq, $3, r.client_msg_id, r.sender_id, r.payload, r.fp, r.sent_at,
                    r.sequenced_at
               FROM unnest($9::text[], $10::int8[], $11::int8[], $12::text[], $13::text[], $14::jsonb[], $15::text[],
                           $16::timestamptz[], $17::timestamptz[])
                 AS r(room_id, seq, prev_seq, client_msg_id, sender_id, payload, fp, sent_at, sequenced_at)
              WHERE EXISTS (SELECT 1 FROM fence)
             RETURNING 1
           ), lettered AS (
             -- Offsets restart when the input topic is recreated (new epoch); the newest letter wins.
             INSERT INTO seqcast_dead_letters (topic, partition, "offset", reason, key, value, created_at)
             SELECT $2, $3, d.o, d.reason, d.key, d.value, now()
               FROM unnest($18::int8[], $19::text[], $20::text[], $21::text[]) AS d(o, reason, key, value)
              WHERE EXISTS (SELECT 1 FROM fence)
             ON CONFLICT (topic, partition, "offset")
             DO UPDATE SET reason = EXCLUDED.reason, key = EXCLUDED.key, value = EXCLUDED.value, created_at = now()
             RETURNING 1
           ), moved AS (
             UPDATE seqcast_partition_positions p
                SET next_offset = $6, published_offset = GREATEST(p.published_offset, $7::int8), updated_at = now()
               FROM fence
              WHERE p.epoch = $1 AND p.topic = $2 AND p.partition = $3
             RETURNING 1
           )
           SELECT (SELECT count(*) FROM moved)::int AS moved, (SELECT count(*) FROM inserted)::int AS inserted,
                  (SELECT count(*) FROM lettered)::int AS lettered`,
    values: [
      claim.epoch,
      claim.topic,
      claim.partition,
      claim.generation,
      write.fromOffset,
      write.nextOffset,
      write.publishedOffset ?? null,
      EPOCH_KEY,
      messages.map((m) => m.roomId),
      messages.map((m) => String(m.seq)),
      messages.map((m) => (m.prevSeq === null ? null : String(m.prevSeq))),
      messages.map((m) => m.clientMsgId),
      messages.map((m) => m.senderId),
      messages.map((m) => JSON.stringify(m.payload)),
      messages.map((_, i) => fingerprints[i] ?? null),
      messages.map((m) => m.sentAt),
      messages.map((m) => m.sequencedAt),
      deadLetters.map((l) => String(l.offset)),
      deadLetters.map((l) => l.reason),
      deadLetters.map((l) => l.key),
      deadLetters.map((l) => l.value),
    ],
  };
}

function runNamed(on: Pool | PoolClient, statement: QueryConfig): Promise<QueryResult> {
  return on.query(statement);
}

/**
 * The one-statement write met a stored idempotency key: that statement wrote nothing (so nothing
 * is in doubt), and the caller reads and writes again. Any other error is rethrown.
 */
function storedKey(error: unknown): undefined {
  if (isUniqueViolation(error)) return undefined;
  throw error;
}

/** PostgreSQL's unique_violation: on the batch write, a key (or seq) of the batch is stored already. */
function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '23505';
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
