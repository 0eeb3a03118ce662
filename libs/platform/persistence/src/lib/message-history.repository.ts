import type { Message } from '@seqcast/contracts';
import type { DataSource } from 'typeorm';
import { EPOCH_KEY, MessageEntity, MetaEntity } from './entities';
import { toMessage } from './message.mapping';

/**
 * The one read port on stored messages: what the history endpoint (@seqcast/history-query) and the
 * gateway's subscribe/replay (@seqcast/gateway-delivery) ask. MessageHistoryRepository implements
 * it on PostgreSQL; unit tests use in-memory ones. Everything is read in the current epoch: after a
 * log reset old numbering is not served.
 */
export interface MessageHistory {
  currentEpoch(): Promise<string>;
  /** Highest seq stored for the room; -1 when the room has no messages. */
  headSeq(roomId: string): Promise<number>;
  /** Messages with seq > afterSeq, ascending seq, at most `limit`. */
  findAfter(roomId: string, afterSeq: number, limit: number): Promise<Message[]>;
  /**
   * The latest `limit` messages with seq < beforeSeq (undefined: the latest of the room), returned
   * in ascending seq like every other read.
   */
  findBefore(roomId: string, beforeSeq: number | undefined, limit: number): Promise<Message[]>;
  /**
   * The cursor the latest `count` messages follow: the prevSeq of the oldest of them, so replaying
   * after it yields exactly those messages, chained. -1 when the room is empty or that message is
   * the room's first.
   */
  afterSeqForLatest(roomId: string, count: number): Promise<number>;
}

/** MessageHistory on PostgreSQL, plus the idempotency probe ingest answers duplicates with. */
export class MessageHistoryRepository implements MessageHistory {
  constructor(private readonly dataSource: DataSource) {}

  async currentEpoch(): Promise<string> {
    const row = await this.dataSource.getRepository(MetaEntity).findOneBy({ key: EPOCH_KEY });
    if (!row) throw new Error('seqcast_meta has no epoch: the database was not opened with openDatabase()');
    return row.value;
  }

  /** Highest seq stored for the room in the current epoch; -1 when the room has no messages. */
  async headSeq(roomId: string): Promise<number> {
    const rows: { head: string | null }[] = await this.dataSource.query(
      `SELECT max(m.seq) AS head FROM seqcast_messages m
        WHERE m.epoch = (SELECT value FROM seqcast_meta WHERE key = $1) AND m.room_id = $2`,
      [EPOCH_KEY, roomId],
    );
    const head = rows[0]?.head;
    return head === null || head === undefined ? -1 : Number(head);
  }

  /** The seq of the message stored under an idempotency key in the current epoch, if any (one index probe). */
  async findSeq(key: { roomId: string; senderId: string; clientMsgId: string }): Promise<number | undefined> {
    const rows: { seq: string }[] = await this.dataSource.query(
      `SELECT m.seq FROM seqcast_messages m
        WHERE m.epoch = (SELECT value FROM seqcast_meta WHERE key = $1)
          AND m.room_id = $2 AND m.sender_id = $3 AND m.client_msg_id = $4`,
      [EPOCH_KEY, key.roomId, key.senderId, key.clientMsgId],
    );
    return rows[0] ? Number(rows[0].seq) : undefined;
  }

  /** Messages with seq > afterSeq, ascending, at most `limit`, from the current epoch. */
  async findAfter(roomId: string, afterSeq: number, limit: number): Promise<Message[]> {
    const rows = await this.dataSource
      .getRepository(MessageEntity)
      .createQueryBuilder('m')
      .where(`m.epoch = (SELECT value FROM seqcast_meta WHERE key = :key)`, { key: EPOCH_KEY })
      .andWhere('m.room_id = :roomId', { roomId })
      .andWhere('m.seq > :afterSeq', { afterSeq })
      .orderBy('m.seq', 'ASC')
      .limit(limit)
      .getMany();
    return rows.map(toMessage);
  }

  /**
   * The latest `limit` messages below beforeSeq, ascending. One backward range scan of the primary
   * key (epoch, room_id, seq) that stops after `limit` rows: the cost is the page, not the room.
   */
  async findBefore(roomId: string, beforeSeq: number | undefined, limit: number): Promise<Message[]> {
    const query = this.dataSource
      .getRepository(MessageEntity)
      .createQueryBuilder('m')
      .where(`m.epoch = (SELECT value FROM seqcast_meta WHERE key = :key)`, { key: EPOCH_KEY })
      .andWhere('m.room_id = :roomId', { roomId });
    if (beforeSeq !== undefined) query.andWhere('m.seq < :beforeSeq', { beforeSeq });
    const rows = await query.orderBy('m.seq', 'DESC').limit(limit).getMany();
    return rows.map(toMessage).reverse();
  }

  /** prevSeq of the oldest of the latest `count` messages (-1: none, or it is the first): `count` index entries. */
  async afterSeqForLatest(roomId: string, count: number): Promise<number> {
    const rows: { prev_seq: string | null }[] = await this.dataSource.query(
      `SELECT latest.prev_seq FROM (
         SELECT m.seq, m.prev_seq FROM seqcast_messages m
          WHERE m.epoch = (SELECT value FROM seqcast_meta WHERE key = $1) AND m.room_id = $2
          ORDER BY m.seq DESC LIMIT $3
       ) latest ORDER BY latest.seq ASC LIMIT 1`,
      [EPOCH_KEY, roomId, count],
    );
    const prev = rows[0]?.prev_seq;
    return prev === null || prev === undefined ? -1 : Number(prev);
  }
}
