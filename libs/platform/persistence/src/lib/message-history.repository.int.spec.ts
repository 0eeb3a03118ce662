import { createTestDatabase, type TestDatabase } from '@seqcast/testing';
import type { DataSource } from 'typeorm';
import { openDatabase } from './database';
import { MessageHistoryRepository } from './message-history.repository';

/**
 * Backward reads against real PostgreSQL: seqs are Kafka offsets shared by every room of a
 * partition, so a room's seqs have holes, and rows of an older epoch share room ids and seqs.
 */
describe('MessageHistoryRepository backward reads (real PostgreSQL)', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let history: MessageHistoryRepository;
  let epoch: string;

  // Room `chat` interleaved with `other` on one partition; `chat` then loses 0-2 to retention.
  const chatSeqs = [3, 5, 6, 9, 14, 15, 20];

  async function insert(rowEpoch: string, roomId: string, seqs: number[], prevOfFirst: number | null): Promise<void> {
    for (const [i, seq] of seqs.entries()) {
      await dataSource.query(
        `INSERT INTO seqcast_messages
           (epoch, room_id, seq, prev_seq, partition, client_msg_id, sender_id, payload, sent_at, sequenced_at)
         VALUES ($1, $2, $3, $4, 0, $5, 'alice', $6, now(), now())`,
        [rowEpoch, roomId, seq, i === 0 ? prevOfFirst : seqs[i - 1], `${roomId}-${seq}`, JSON.stringify({ seq })],
      );
    }
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    dataSource = await openDatabase({ url: db.url, runMigrations: true });
    history = new MessageHistoryRepository(dataSource);
    epoch = await history.currentEpoch();
    await insert(epoch, 'chat', chatSeqs, 2);
    await insert(epoch, 'other', [0, 1, 2, 4, 7, 8, 10], null);
    // A previous epoch's numbering: never served, although its seqs are higher.
    await insert('e-old', 'chat', [30, 31, 32], null);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  const seqs = (messages: { seq: number }[]) => messages.map((m) => m.seq);

  it('returns the latest messages of the room, ascending, from the current epoch only', async () => {
    const latest = await history.findBefore('chat', undefined, 3);
    expect(seqs(latest)).toEqual([14, 15, 20]);
    expect(latest.map((m) => m.prevSeq)).toEqual([9, 14, 15]);
    expect(latest.every((m) => m.epoch === epoch && m.roomId === 'chat')).toBe(true);
  });

  it('pages back below a seq, whether or not that seq is one of the room', async () => {
    expect(seqs(await history.findBefore('chat', 14, 3))).toEqual([5, 6, 9]);
    expect(seqs(await history.findBefore('chat', 13, 3))).toEqual([5, 6, 9]);
    expect(seqs(await history.findBefore('chat', 5, 3))).toEqual([3]);
    expect(await history.findBefore('chat', 3, 3)).toEqual([]);
    expect(await history.findBefore('chat', 0, 3)).toEqual([]);
  });

  it('walks the whole room back page by page without a gap or a duplicate', async () => {
    const walked: number[] = [];
    let beforeSeq: number | undefined;
    for (;;) {
      const page = await history.findBefore('chat', beforeSeq, 2);
      if (page.length === 0) break;
      walked.unshift(...seqs(page));
      beforeSeq = page[0].seq;
    }
    expect(walked).toEqual(chatSeqs);
  });

  it('answers an empty room with nothing', async () => {
    expect(await history.findBefore('empty', undefined, 50)).toEqual([]);
    expect(await history.afterSeqForLatest('empty', 50)).toBe(-1);
  });

  it('finds the cursor the latest N follow: the prevSeq of the oldest of them', async () => {
    expect(await history.afterSeqForLatest('chat', 1)).toBe(15);
    expect(await history.afterSeqForLatest('chat', 3)).toBe(9);
    // Fewer than N retained: the oldest retained names its pruned predecessor, so a replay after it
    // chains and nothing looks truncated.
    expect(await history.afterSeqForLatest('chat', 1000)).toBe(2);
    expect(await history.afterSeqForLatest('other', 1000)).toBe(-1);
    const replayed = await history.findAfter('chat', await history.afterSeqForLatest('chat', 3), 100);
    expect(seqs(replayed)).toEqual([14, 15, 20]);
  });
});
