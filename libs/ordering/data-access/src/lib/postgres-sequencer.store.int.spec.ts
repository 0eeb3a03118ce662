/**
 * PostgresSequencerStore against a real database: claims and the fence, the all-or-nothing
 * batch, the outbox, epoch rotation, and what it leaves for history readers and retention.
 */
import type { Message } from '@seqcast/contracts';
import { type BatchWrite, idempotencyKey, type PartitionClaim, type SequencedBatch } from '@seqcast/ordering-domain';
import { MessageHistoryRepository, openDatabase } from '@seqcast/persistence';
import { V1_MIGRATIONS } from '@seqcast/persistence/testing';
import { createTestDatabase, type TestDatabase } from '@seqcast/testing';
import { Client, type Pool } from 'pg';
import { DataSource } from 'typeorm';
import { pruneHistoryBatch } from './history-retention';
import { type CommitPath, PostgresSequencerStore, readBatchStatement } from './postgres-sequencer.store';

const TOPIC = 'seqcast.messages';

function message(
  epoch: string,
  roomId: string,
  seq: number,
  prevSeq: number | null,
  extra: Partial<Message> = {},
): Message {
  return {
    roomId,
    seq,
    prevSeq,
    epoch,
    clientMsgId: `c-${seq}`,
    senderId: 'alice',
    payload: { n: seq },
    sentAt: '2026-01-01T00:00:00.000Z',
    sequencedAt: '2026-01-01T00:00:01.000Z',
    ...extra,
  };
}

/** Commit a ready-made batch through the fenced path, as the worker does. */
function commit(store: PostgresSequencerStore, claim: PartitionClaim, fromOffset: number, batch: SequencedBatch) {
  const offsets = [...batch.messages.map((m) => m.seq), ...batch.deadLetters.map((d) => d.offset)];
  return store.commitBatch(claim, {
    fromOffset,
    nextOffset: Math.max(fromOffset - 1, ...offsets) + 1,
    roomIds: batch.messages.map((m) => m.roomId),
    ids: batch.messages.map((m) => ({ roomId: m.roomId, senderId: m.senderId, clientMsgId: m.clientMsgId })),
    sequence: () => batch,
  });
}

async function position(dataSource: DataSource, claim: PartitionClaim) {
  const rows: { next_offset: string; published_offset: string; generation: string; owner: string }[] =
    await dataSource.query(
      `SELECT next_offset, published_offset, generation, owner FROM seqcast_partition_positions
        WHERE epoch = $1 AND topic = $2 AND partition = $3`,
      [claim.epoch, claim.topic, claim.partition],
    );
  const row = rows[0];
  return (
    row && {
      nextOffset: Number(row.next_offset),
      publishedOffset: Number(row.published_offset),
      generation: Number(row.generation),
      owner: row.owner,
    }
  );
}

describe('a database migrated from v1', () => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    await db.drop();
  });

  it('migrates a database holding v1 data to sender-scoped idempotency, keeping every row', async () => {
    // v1 exactly as deployed: the migrations of that release, then data written under its constraint.
    const v1 = new DataSource({
      type: 'postgres',
      url: db.url,
      migrations: V1_MIGRATIONS,
      logging: false,
    });
    await v1.initialize();
    let epoch = '';
    try {
      await v1.runMigrations({ transaction: 'each' });
      [{ value: epoch }] = (await v1.query(`SELECT value FROM seqcast_meta WHERE key = 'epoch'`)) as {
        value: string;
      }[];
      const insert = (seq: number, sender: string, clientMsgId: string) =>
        v1.query(
          `INSERT INTO seqcast_messages
             (epoch, room_id, seq, prev_seq, partition, client_msg_id, sender_id, payload, sent_at, sequenced_at)
           VALUES ($1, 'v1-room', $2, $3, 0, $4, $5, '{"v":1}', now(), now())`,
          [epoch, seq, seq === 0 ? null : seq - 1, clientMsgId, sender],
        );
      await insert(0, 'alice', 'c-0001');
      await insert(1, 'bob', 'c-0002');
      // The v1 rule this release fixes: bob cannot store his own c-0001.
      await expect(insert(2, 'bob', 'c-0001')).rejects.toThrow(/uq_seqcast_messages_client_msg/);
    } finally {
      await v1.destroy();
    }

    const migrated = await openDatabase({ url: db.url, runMigrations: true });
    try {
      const pending = await migrated.driver.createSchemaBuilder().log();
      expect(pending.upQueries.map((q) => q.query)).toEqual([]);
      const history = new MessageHistoryRepository(migrated);
      expect(await history.currentEpoch()).toBe(epoch);
      expect((await history.findAfter('v1-room', -1, 10)).map((m) => [m.seq, m.senderId, m.clientMsgId])).toEqual([
        [0, 'alice', 'c-0001'],
        [1, 'bob', 'c-0002'],
      ]);
      const rows: { payload_fingerprint: string | null }[] = await migrated.query(
        `SELECT payload_fingerprint FROM seqcast_messages`,
      );
      expect(rows).toEqual([{ payload_fingerprint: null }, { payload_fingerprint: null }]);

      const store = new PostgresSequencerStore(migrated);
      const claim = await store.claim({ topic: TOPIC, partition: 0, owner: 'w1', initialOffset: 2 });
      const mine = (seq: number, prevSeq: number, senderId: string) =>
        message(epoch, 'v1-room', seq, prevSeq, { senderId, clientMsgId: 'c-0001' });
      const outcome = await commit(store, claim, 2, { messages: [mine(2, 1, 'bob')], deadLetters: [] });
      expect(outcome.status).toBe('committed');
      // Still unique per sender: a second alice c-0001 row is refused by the new constraint.
      await expect(commit(store, claim, 3, { messages: [mine(3, 2, 'alice')], deadLetters: [] })).rejects.toThrow(
        /uq_seqcast_messages_sender_client_msg/,
      );
    } finally {
      await migrated.destroy();
    }
  });
});

describe('message store', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let store: PostgresSequencerStore;
  let history: MessageHistoryRepository;

  beforeAll(async () => {
    db = await createTestDatabase();
    dataSource = await openDatabase({ url: db.url, runMigrations: true });
    store = new PostgresSequencerStore(dataSource);
    history = new MessageHistoryRepository(dataSource);
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  it('serves history in seq order from the current epoch, with any JSON payload', async () => {
    const claim = await store.claim({ topic: TOPIC, partition: 0, owner: 'w1', initialOffset: 0 });
    expect(claim).toMatchObject({ generation: 1, nextOffset: 0, publishedOffset: 0 });
    const e = claim.epoch;
    expect(await history.headSeq('history-room')).toBe(-1);
    expect(await history.findAfter('history-room', -1, 10)).toEqual([]);

    const stored = [
      message(e, 'history-room', 0, null, { payload: null }),
      message(e, 'other-room', 1, null),
      message(e, 'history-room', 2, 0, { payload: 'plain string' }),
      message(e, 'history-room', 5, 2, { payload: [1, { deep: [true, null] }], sentAt: '2026-03-04T05:06:07.089Z' }),
    ];
    const outcome = await commit(store, claim, 0, { messages: stored, deadLetters: [] });
    expect(outcome.status).toBe('committed');

    expect(await history.headSeq('history-room')).toBe(5);
    expect(await history.findAfter('history-room', -1, 100)).toEqual([stored[0], stored[2], stored[3]]);
    expect(await history.findAfter('history-room', 0, 1)).toEqual([stored[2]]);
    expect(await history.findAfter('history-room', 5, 100)).toEqual([]);
    expect(await history.findAfter('nobody', -1, 100)).toEqual([]);

    const { epoch, rotated } = await store.rotateEpoch(e);
    expect(rotated).toBe(true);
    expect(await history.currentEpoch()).toBe(epoch);
    expect(await history.headSeq('history-room')).toBe(-1);
    expect(await history.findAfter('history-room', -1, 100)).toEqual([]);
  });

  it('claims bump the generation; a stale claim cannot commit anything', async () => {
    const first = await store.claim({ topic: TOPIC, partition: 1, owner: 'w1', initialOffset: 40 });
    expect(first).toMatchObject({ nextOffset: 40, publishedOffset: 40, generation: 1 });
    const second = await store.claim({ topic: TOPIC, partition: 1, owner: 'w2', initialOffset: 0 });
    expect(second).toMatchObject({ nextOffset: 40, generation: 2, owner: 'w2' });

    const e = first.epoch;
    const stale = await commit(store, first, 40, { messages: [message(e, 'fence-room', 40, null)], deadLetters: [] });
    expect(stale).toEqual({ status: 'fenced', reason: 'generation is 2, this claim holds 1' });
    expect(await store.markPublished(first, 41)).toBe(false);
    expect(await store.skipTo(first, 99)).toBe(false);
    expect(await history.headSeq('fence-room')).toBe(-1);

    const moved = await commit(store, second, 39, { messages: [message(e, 'fence-room', 40, null)], deadLetters: [] });
    expect(moved).toEqual({ status: 'fenced', reason: 'position is 40, expected 39' });

    const ok = await commit(store, second, 40, { messages: [message(e, 'fence-room', 40, null)], deadLetters: [] });
    expect(ok.status).toBe('committed');
    expect(await position(dataSource, second)).toEqual({
      nextOffset: 41,
      publishedOffset: 40,
      generation: 2,
      owner: 'w2',
    });
    expect(await history.headSeq('fence-room')).toBe(40);
  });

  it('rolls a batch back entirely when it fails before COMMIT', async () => {
    const claim = await store.claim({ topic: TOPIC, partition: 2, owner: 'w1', initialOffset: 0 });
    const e = claim.epoch;
    await expect(
      store.commitBatch(claim, {
        fromOffset: 0,
        nextOffset: 2,
        roomIds: ['rollback-room'],
        ids: [],
        sequence: () => ({
          messages: [message(e, 'rollback-room', 0, null)],
          deadLetters: [{ offset: 1, reason: 'bad', key: null, value: 'x' }],
        }),
        beforeCommit: async () => {
          throw new Error('crash before commit');
        },
      }),
    ).rejects.toThrow('crash before commit');
    expect(await history.headSeq('rollback-room')).toBe(-1);
    expect(await position(dataSource, claim)).toMatchObject({ nextOffset: 0 });
    const letters: unknown[] = await dataSource.query(`SELECT 1 FROM seqcast_dead_letters WHERE partition = 2`);
    expect(letters).toHaveLength(0);
  });

  it('tells the sequencer what is already stored and each room head, within the epoch', async () => {
    const claim = await store.claim({ topic: TOPIC, partition: 3, owner: 'w1', initialOffset: 0 });
    const e = claim.epoch;
    await commit(store, claim, 0, {
      messages: [message(e, 'known-a', 0, null), message(e, 'known-a', 1, 0), message(e, 'known-b', 2, null)],
      fingerprints: ['fp-0', 'fp-1', null],
      deadLetters: [],
    });
    let seen: unknown;
    await store.commitBatch(claim, {
      fromOffset: 3,
      nextOffset: 4,
      roomIds: ['known-a', 'known-b', 'known-c', 'known-a'],
      ids: [
        { roomId: 'known-a', senderId: 'alice', clientMsgId: 'c-1' },
        // Idempotency is per sender: bob's c-1 is not alice's.
        { roomId: 'known-a', senderId: 'bob', clientMsgId: 'c-1' },
        { roomId: 'known-b', senderId: 'alice', clientMsgId: 'c-2' },
        { roomId: 'known-b', senderId: 'alice', clientMsgId: 'c-1' },
        { roomId: 'known-c', senderId: 'alice', clientMsgId: 'c-2' },
      ],
      sequence: (known) => {
        seen = { stored: new Map(known.stored), heads: Object.fromEntries(known.heads) };
        return { messages: [], deadLetters: [] };
      },
    });
    expect(seen).toEqual({
      stored: new Map([
        [idempotencyKey({ roomId: 'known-a', senderId: 'alice', clientMsgId: 'c-1' }), { seq: 1, fingerprint: 'fp-1' }],
        [idempotencyKey({ roomId: 'known-b', senderId: 'alice', clientMsgId: 'c-2' }), { seq: 2, fingerprint: null }],
      ]),
      heads: { 'known-a': 1, 'known-b': 2 },
    });
    expect(await position(dataSource, claim)).toMatchObject({ nextOffset: 4 });
  });

  it('group-commits several partitions in one transaction, each fenced on its own', async () => {
    const claim = (partition: number, owner = 'w1', initialOffset = 0) =>
      store.claim({ topic: TOPIC, partition, owner, initialOffset });
    const [a, b, stale, moved] = [await claim(20), await claim(21), await claim(22), await claim(23)];
    const e = a.epoch;
    const current = await claim(22, 'w2');
    const write = (fromOffset: number, batch: SequencedBatch, publishedOffset?: number) => {
      const offsets = [...batch.messages.map((m) => m.seq), ...batch.deadLetters.map((d) => d.offset)];
      return {
        fromOffset,
        nextOffset: Math.max(fromOffset - 1, ...offsets) + 1,
        publishedOffset,
        roomIds: batch.messages.map((m) => m.roomId),
        ids: batch.messages.map((m) => ({ roomId: m.roomId, senderId: m.senderId, clientMsgId: m.clientMsgId })),
        sequence: () => batch,
      };
    };
    const letter = { offset: 1, reason: 'value is not JSON', key: null, value: 'x' };
    const outcomes = await store.commitBatches([
      { claim: a, write: write(0, { messages: [message(e, 'group-a', 0, null)], deadLetters: [letter] }, 0) },
      {
        claim: b,
        write: write(0, { messages: [message(e, 'group-b', 0, null), message(e, 'group-b', 1, 0)], deadLetters: [] }),
      },
      { claim: stale, write: write(0, { messages: [message(e, 'group-stale', 0, null)], deadLetters: [letter] }) },
      { claim: moved, write: write(5, { messages: [message(e, 'group-moved', 5, null)], deadLetters: [] }) },
    ]);
    expect(outcomes.map((o) => (o.status === 'fenced' ? o.reason : o.status))).toEqual([
      'committed',
      'committed',
      'generation is 2, this claim holds 1',
      'position is 0, expected 5',
    ]);
    expect(await history.findAfter('group-a', -1, 10)).toEqual([message(e, 'group-a', 0, null)]);
    expect((await history.findAfter('group-b', -1, 10)).map((m) => m.seq)).toEqual([0, 1]);
    expect(await history.headSeq('group-stale')).toBe(-1);
    expect(await history.headSeq('group-moved')).toBe(-1);
    expect(await position(dataSource, a)).toMatchObject({ nextOffset: 2, publishedOffset: 0 });
    expect(await position(dataSource, b)).toMatchObject({ nextOffset: 2 });
    expect(await position(dataSource, current)).toMatchObject({ nextOffset: 0, generation: 2 });
    expect(await position(dataSource, moved)).toMatchObject({ nextOffset: 0 });
    const letters: { partition: number }[] = await dataSource.query(
      `SELECT partition FROM seqcast_dead_letters WHERE topic = $1 AND partition BETWEEN 20 AND 23`,
      [TOPIC],
    );
    expect(letters).toEqual([{ partition: 20 }]);

    // Each member sees what is stored for its own keys and rooms when the store reads them (a store
    // that has not seen the rooms, as after a restart); a member whose sequencing throws fails alone.
    let seen: unknown;
    const next = await new PostgresSequencerStore(dataSource).commitBatches([
      {
        claim: a,
        write: {
          fromOffset: 2,
          nextOffset: 3,
          publishedOffset: 2,
          roomIds: ['group-a'],
          ids: [{ roomId: 'group-a', senderId: 'alice', clientMsgId: 'c-0' }],
          sequence: (known) => {
            seen = { stored: [...known.stored.values()], head: known.heads.get('group-a') };
            return { messages: [], deadLetters: [] };
          },
        },
      },
      {
        claim: b,
        write: {
          ...write(2, { messages: [], deadLetters: [] }),
          sequence: () => {
            throw new Error('bad batch');
          },
        },
      },
    ]);
    expect(seen).toEqual({ stored: [{ seq: 0, fingerprint: null }], head: 0 });
    expect(next[0]).toMatchObject({ status: 'committed' });
    expect(next[1]).toMatchObject({ status: 'failed', error: new Error('bad batch') });
    expect(await position(dataSource, a)).toMatchObject({ nextOffset: 3, publishedOffset: 2 });
    expect(await position(dataSource, b)).toMatchObject({ nextOffset: 2 });

    // A database error rolls the whole group back (the worker then commits each member alone).
    await expect(
      store.commitBatches([
        { claim: a, write: write(3, { messages: [message(e, 'group-a', 3, 0)], deadLetters: [] }) },
        {
          claim: b,
          write: write(2, { messages: [message(e, 'group-b', 1, 0, { clientMsgId: 'again' })], deadLetters: [] }),
        },
      ]),
    ).rejects.toThrow(/duplicate key/);
    expect(await history.headSeq('group-a')).toBe(0);
    expect(await position(dataSource, a)).toMatchObject({ nextOffset: 3 });
    expect(await position(dataSource, b)).toMatchObject({ nextOffset: 2 });
  });

  it('keeps dead letters, newest wins when an offset comes back after a topic reset', async () => {
    const claim = await store.claim({ topic: TOPIC, partition: 4, owner: 'w1', initialOffset: 0 });
    await commit(store, claim, 0, {
      messages: [],
      deadLetters: [
        { offset: 0, reason: 'value is not JSON', key: 'k', value: 'garbage' },
        { offset: 1, reason: 'key missing', key: null, value: null },
      ],
    });
    const rotated = await store.rotateEpoch(claim.epoch);
    const again = await store.claim({ topic: TOPIC, partition: 4, owner: 'w1', initialOffset: 0 });
    expect(again.epoch).toBe(rotated.epoch);
    await commit(store, again, 0, {
      messages: [],
      deadLetters: [{ offset: 0, reason: 'newer', key: null, value: 'base64:AAE=' }],
    });
    const rows: { offset: string; reason: string; key: string | null; value: string | null }[] = await dataSource.query(
      `SELECT "offset", reason, key, value FROM seqcast_dead_letters WHERE topic = $1 AND partition = 4 ORDER BY "offset"`,
      [TOPIC],
    );
    expect(rows).toEqual([
      { offset: '0', reason: 'newer', key: null, value: 'base64:AAE=' },
      { offset: '1', reason: 'key missing', key: null, value: null },
    ]);
  });

  it('fences commits across an epoch rotation, and rotation is idempotent', async () => {
    const claim = await store.claim({ topic: TOPIC, partition: 5, owner: 'w1', initialOffset: 0 });
    const first = await store.rotateEpoch(claim.epoch);
    const second = await store.rotateEpoch(claim.epoch);
    expect(first.rotated).toBe(true);
    expect(second).toEqual({ epoch: first.epoch, rotated: false });
    const outcome = await commit(store, claim, 0, {
      messages: [message(claim.epoch, 'epoch-room', 0, null)],
      deadLetters: [],
    });
    expect(outcome).toEqual({ status: 'fenced', reason: `epoch rotated from ${claim.epoch} to ${first.epoch}` });
    const fresh = await store.claim({ topic: TOPIC, partition: 5, owner: 'w1', initialOffset: 0 });
    expect(fresh).toMatchObject({ epoch: first.epoch, generation: 1, nextOffset: 0 });
  });

  it('tracks the outbox: unpublished messages from published_offset, skipTo for vanished records', async () => {
    const claim = await store.claim({ topic: TOPIC, partition: 6, owner: 'w1', initialOffset: 10 });
    const e = claim.epoch;
    const batch = [message(e, 'outbox-a', 10, null), message(e, 'outbox-b', 11, null), message(e, 'outbox-a', 13, 10)];
    await commit(store, claim, 10, {
      messages: batch,
      deadLetters: [{ offset: 12, reason: 'x', key: null, value: null }],
    });
    expect(await store.findUnpublished(claim, claim.publishedOffset, 100)).toEqual(batch);
    expect(await store.findUnpublished(claim, 11, 1)).toEqual([batch[1]]);
    expect(await store.markPublished(claim, 12)).toBe(true);
    expect(await store.markPublished(claim, 11)).toBe(true); // never moves backwards
    expect(await position(dataSource, claim)).toMatchObject({ nextOffset: 14, publishedOffset: 12 });
    const reclaimed = await store.claim({ topic: TOPIC, partition: 6, owner: 'w2', initialOffset: 0 });
    expect(reclaimed).toMatchObject({ nextOffset: 14, publishedOffset: 12, generation: 2 });
    expect(await store.findUnpublished(reclaimed, reclaimed.publishedOffset, 100)).toEqual([batch[2]]);

    expect(await store.skipTo(reclaimed, 20)).toBe(true);
    expect(await store.skipTo(reclaimed, 15)).toBe(false); // never moves backwards
    expect(await position(dataSource, reclaimed)).toMatchObject({ nextOffset: 20, publishedOffset: 12 });
  });
  it("records the previous batch's publish with the next batch (never lowering it, never when fenced)", async () => {
    const claim = await store.claim({ topic: TOPIC, partition: 11, owner: 'w1', initialOffset: 0 });
    const e = claim.epoch;
    const write = (c: PartitionClaim, from: number, publishedOffset: number) =>
      store.commitBatch(c, {
        fromOffset: from,
        nextOffset: from + 1,
        roomIds: ['fold-room'],
        ids: [],
        publishedOffset,
        sequence: (known) => ({
          messages: [message(e, 'fold-room', from, known.heads.get('fold-room') ?? null)],
          deadLetters: [],
        }),
      });
    expect((await write(claim, 0, 0)).status).toBe('committed');
    expect(await position(dataSource, claim)).toMatchObject({ nextOffset: 1, publishedOffset: 0 });
    expect((await write(claim, 1, 1)).status).toBe('committed');
    expect(await position(dataSource, claim)).toMatchObject({ nextOffset: 2, publishedOffset: 1 });
    expect(await store.markPublished(claim, 2)).toBe(true);
    expect((await write(claim, 2, 1)).status).toBe('committed');
    expect(await position(dataSource, claim)).toMatchObject({ nextOffset: 3, publishedOffset: 2 });

    const taken = await store.claim({ topic: TOPIC, partition: 11, owner: 'w2', initialOffset: 0 });
    expect(await write(claim, 3, 3)).toEqual({ status: 'fenced', reason: 'generation is 2, this claim holds 1' });
    expect(await position(dataSource, taken)).toMatchObject({ nextOffset: 3, publishedOffset: 2, generation: 2 });
    expect((await store.findUnpublished(taken, 2, 10)).map((m) => m.seq)).toEqual([2]);
  });

  it('prunes old messages in batches, never a room head, an unpublished message or another partition', async () => {
    const claim = await store.claim({ topic: TOPIC, partition: 7, owner: 'w1', initialOffset: 100 });
    const e = claim.epoch;
    const old = '2026-01-01T00:00:00.000Z';
    const recent = '2026-03-01T00:00:00.000Z';
    const at = (sequencedAt: string) => ({ sequencedAt });
    await commit(store, claim, 100, {
      messages: [
        message(e, 'keep-a', 100, null, at(old)),
        message(e, 'keep-a', 101, 100, at(old)),
        message(e, 'keep-a', 102, 101, at(old)), // old, but the room's newest
        message(e, 'keep-b', 103, null, at(old)),
        message(e, 'keep-b', 104, 103, at(recent)),
        message(e, 'keep-c', 105, null, at(old)),
        message(e, 'keep-c', 106, 105, at(old)), // seq >= published_offset below: still in the outbox
        message(e, 'keep-c', 107, 106, at(recent)),
      ],
      deadLetters: [],
    });
    expect(await store.markPublished(claim, 106)).toBe(true);
    const other = await store.claim({ topic: TOPIC, partition: 8, owner: 'w1', initialOffset: 100 });
    await commit(store, other, 100, {
      messages: [message(e, 'other-p', 100, null, at(old)), message(e, 'other-p', 101, 100, at(old))],
      deadLetters: [],
    });
    expect(await store.markPublished(other, 102)).toBe(true);

    const request = { topic: TOPIC, partitions: [7], olderThan: new Date('2026-02-01T00:00:00Z'), limit: 2 };
    expect(await pruneHistoryBatch(dataSource, request)).toBe(2);
    expect(await pruneHistoryBatch(dataSource, request)).toBe(2);
    expect(await pruneHistoryBatch(dataSource, request)).toBe(0);
    expect(await pruneHistoryBatch(dataSource, { ...request, topic: 'another.topic', partitions: [8] })).toBe(0);
    expect(await pruneHistoryBatch(dataSource, { ...request, partitions: [] })).toBe(0);

    const left: { room_id: string; seq: string }[] = await dataSource.query(
      `SELECT room_id, seq FROM seqcast_messages WHERE epoch = $1 AND partition IN (7, 8) ORDER BY partition, seq`,
      [e],
    );
    expect(left.map((r) => `${r.room_id}/${r.seq}`)).toEqual([
      'keep-a/102',
      'keep-b/104',
      'keep-c/106',
      'keep-c/107',
      'other-p/100',
      'other-p/101',
    ]);
    // The survivor still names its pruned predecessor: readers see the truncation in the chain.
    expect(await history.findAfter('keep-a', -1, 10)).toEqual([message(e, 'keep-a', 102, 101, at(old))]);
    expect(await history.headSeq('keep-a')).toBe(102);
  });
});

describe('the one-statement batch (room heads known under the claim)', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let history: MessageHistoryRepository;
  let pool: Pool;

  beforeAll(async () => {
    db = await createTestDatabase();
    dataSource = await openDatabase({ url: db.url, runMigrations: true });
    history = new MessageHistoryRepository(dataSource);
    pool = (dataSource.driver as unknown as { master: Pool }).master;
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  /** A store that reports each commit's path, and how many statements it sent since the last call. */
  function observedStore() {
    const paths: CommitPath[] = [];
    const store = new PostgresSequencerStore(dataSource, { onCommit: (path) => paths.push(path) });
    const query = jest.spyOn(pool, 'query');
    const statements = () => {
      const sent = query.mock.calls.length;
      query.mockClear();
      return sent;
    };
    return { store, paths, statements, restore: () => query.mockRestore() };
  }

  /**
   * The sequencing rule in miniature: each (room, clientMsgId) at an offset becomes a message chained
   * to its room's head unless `known.stored` already holds the key (then it is a duplicate).
   */
  function batch(epoch: string, fromOffset: number, items: [roomId: string, clientMsgId: string][]) {
    const ids = items.map(([roomId, clientMsgId]) => ({ roomId, senderId: 'alice', clientMsgId }));
    const calls: { stored: number; heads: Record<string, number> }[] = [];
    const write: BatchWrite<SequencedBatch> = {
      fromOffset,
      nextOffset: fromOffset + items.length,
      roomIds: [...new Set(items.map(([roomId]) => roomId))],
      ids,
      sequence: (known) => {
        calls.push({ stored: known.stored.size, heads: Object.fromEntries(known.heads) });
        const heads = new Map(known.heads);
        const messages: Message[] = [];
        ids.forEach((id, i) => {
          if (known.stored.has(idempotencyKey(id))) return;
          const seq = fromOffset + i;
          messages.push(message(epoch, id.roomId, seq, heads.get(id.roomId) ?? null, { clientMsgId: id.clientMsgId }));
          heads.set(id.roomId, seq);
        });
        return { messages, deadLetters: [] };
      },
    };
    return { write, calls };
  }

  const chain = async (roomId: string) =>
    (await history.findAfter(roomId, -1, 100)).map((m) => [m.prevSeq, m.seq, m.clientMsgId]);

  it('reads first only for rooms it has not seen under the claim; known rooms take one statement', async () => {
    const { store, paths, statements, restore } = observedStore();
    try {
      const claim = await store.claim({ topic: TOPIC, partition: 0, owner: 'w1', initialOffset: 0 });
      const e = claim.epoch;
      statements();
      expect((await store.commitBatch(claim, batch(e, 0, [['one-a', 'c-0']]).write)).status).toBe('committed');
      expect(statements()).toBe(2);

      const second = batch(e, 1, [
        ['one-a', 'c-1'],
        ['one-a', 'c-2'],
      ]);
      expect((await store.commitBatch(claim, second.write)).status).toBe('committed');
      expect(statements()).toBe(1);
      expect(second.calls).toEqual([{ stored: 0, heads: { 'one-a': 0 } }]);

      // A room never seen under this claim (here: a new room) costs the read again.
      const third = batch(e, 3, [
        ['one-a', 'c-3'],
        ['one-b', 'c-4'],
      ]);
      expect((await store.commitBatch(claim, third.write)).status).toBe('committed');
      expect(statements()).toBe(2);
      expect(third.calls).toEqual([{ stored: 0, heads: { 'one-a': 2 } }]);
      expect(paths).toEqual(['read-write', 'write', 'read-write']);
      expect(await chain('one-a')).toEqual([
        [null, 0, 'c-0'],
        [0, 1, 'c-1'],
        [1, 2, 'c-2'],
        [2, 3, 'c-3'],
      ]);
      expect(await position(dataSource, claim)).toMatchObject({ nextOffset: 5 });
    } finally {
      restore();
    }
  });

  it('falls back to the read when the statement meets a stored key, so a retry across batches stays a duplicate', async () => {
    const { store, paths, statements, restore } = observedStore();
    try {
      const claim = await store.claim({ topic: TOPIC, partition: 1, owner: 'w1', initialOffset: 0 });
      const e = claim.epoch;
      await store.commitBatch(claim, batch(e, 0, [['retry-a', 'k-0']]).write);
      statements();

      const retry = batch(e, 1, [
        ['retry-a', 'k-0'],
        ['retry-a', 'k-1'],
      ]);
      expect((await store.commitBatch(claim, retry.write)).status).toBe('committed');
      // The one statement (refused by the unique index, writing nothing), then the read and the write.
      expect(statements()).toBe(3);
      expect(retry.calls).toEqual([
        { stored: 0, heads: { 'retry-a': 0 } },
        { stored: 1, heads: { 'retry-a': 0 } },
      ]);
      expect(await chain('retry-a')).toEqual([
        [null, 0, 'k-0'],
        [0, 2, 'k-1'],
      ]);

      // The fallback's read and write taught the store the head: back to one statement.
      expect((await store.commitBatch(claim, batch(e, 3, [['retry-a', 'k-3']]).write)).status).toBe('committed');
      expect(statements()).toBe(1);
      expect(paths).toEqual(['read-write', 'retried', 'write']);
      expect(await chain('retry-a')).toEqual([
        [null, 0, 'k-0'],
        [0, 2, 'k-1'],
        [2, 3, 'k-3'],
      ]);
      expect(await position(dataSource, claim)).toMatchObject({ nextOffset: 4 });
    } finally {
      restore();
    }
  });

  it('is fenced like the two-statement write once another worker claims the partition, and starts over', async () => {
    const { store, paths } = observedStore();
    const claim = await store.claim({ topic: TOPIC, partition: 2, owner: 'w1', initialOffset: 0 });
    const e = claim.epoch;
    await store.commitBatch(claim, batch(e, 0, [['fence-one', 'f-0']]).write);
    const other = new PostgresSequencerStore(dataSource);
    const newer = await other.claim({ topic: TOPIC, partition: 2, owner: 'w2', initialOffset: 0 });
    await other.commitBatch(newer, batch(e, 1, [['fence-one', 'f-1']]).write);

    const late = batch(e, 1, [['fence-one', 'f-late']]);
    expect(await store.commitBatch(claim, late.write)).toEqual({
      status: 'fenced',
      reason: 'generation is 2, this claim holds 1',
    });
    expect(late.calls).toEqual([{ stored: 0, heads: { 'fence-one': 0 } }]);
    expect(await chain('fence-one')).toEqual([
      [null, 0, 'f-0'],
      [0, 1, 'f-1'],
    ]);

    // Taking the partition back is a new claim: its heads are read, not remembered from before.
    const back = await store.claim({ topic: TOPIC, partition: 2, owner: 'w1', initialOffset: 0 });
    const resumed = batch(e, 2, [['fence-one', 'f-2']]);
    expect((await store.commitBatch(back, resumed.write)).status).toBe('committed');
    expect(resumed.calls).toEqual([{ stored: 0, heads: { 'fence-one': 1 } }]);
    expect(paths).toEqual(['read-write', 'read-write']);
    expect(await chain('fence-one')).toEqual([
      [null, 0, 'f-0'],
      [0, 1, 'f-1'],
      [1, 2, 'f-2'],
    ]);
  });

  it('group-commits known rooms in one statement, and falls back for the whole group on a stored key', async () => {
    const { store, paths, statements, restore } = observedStore();
    try {
      const claim = (partition: number) => store.claim({ topic: TOPIC, partition, owner: 'w1', initialOffset: 0 });
      const [a, b] = [await claim(10), await claim(11)];
      const e = a.epoch;
      await store.commitBatches([
        { claim: a, write: batch(e, 0, [['grp-a', 'g-0']]).write },
        { claim: b, write: batch(e, 0, [['grp-b', 'g-0']]).write },
      ]);
      statements();

      const known = await store.commitBatches([
        { claim: a, write: batch(e, 1, [['grp-a', 'g-1']]).write },
        { claim: b, write: batch(e, 1, [['grp-b', 'g-1']]).write },
      ]);
      expect(known.map((o) => o.status)).toEqual(['committed', 'committed']);
      expect(statements()).toBe(1);

      const retryB = batch(e, 2, [
        ['grp-b', 'g-1'],
        ['grp-b', 'g-3'],
      ]);
      const retried = await store.commitBatches([
        { claim: a, write: batch(e, 2, [['grp-a', 'g-2']]).write },
        { claim: b, write: retryB.write },
      ]);
      expect(retried.map((o) => o.status)).toEqual(['committed', 'committed']);
      expect(statements()).toBe(3);
      expect(retryB.calls.map((c) => c.stored)).toEqual([0, 1]);
      expect(paths).toEqual(['read-write', 'write', 'retried']);
      expect(await chain('grp-a')).toEqual([
        [null, 0, 'g-0'],
        [0, 1, 'g-1'],
        [1, 2, 'g-2'],
      ]);
      expect(await chain('grp-b')).toEqual([
        [null, 0, 'g-0'],
        [0, 1, 'g-1'],
        [1, 3, 'g-3'],
      ]);
    } finally {
      restore();
    }
  });
});

describe('the batch read on a young database', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let client: Client;
  beforeAll(async () => {
    db = await createTestDatabase();
    dataSource = await openDatabase({ url: db.url, runMigrations: true });
    client = new Client({ connectionString: db.url });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
    await dataSource?.destroy();
    await db?.drop();
  });

  /** Every plan node, depth first. */
  function nodes(plan: Record<string, unknown>): Record<string, unknown>[] {
    const children = (plan['Plans'] as Record<string, unknown>[] | undefined) ?? [];
    return [plan, ...children.flatMap(nodes)];
  }

  it('probes seqcast_messages by index per key and per room, even as the generic plan of an empty table', async () => {
    // A worker prepares the read on each pooled connection when the table may still be empty and
    // keeps the generic plan while it grows: that plan must not scan the epoch's messages.
    const claim = await new PostgresSequencerStore(dataSource).claim({
      topic: TOPIC,
      partition: 0,
      owner: 'w1',
      initialOffset: 0,
    });
    const statement = readBatchStatement(claim, {
      roomIds: ['young-a', 'young-b'],
      ids: [
        { roomId: 'young-a', senderId: 'alice', clientMsgId: 'c-1' },
        { roomId: 'young-b', senderId: 'alice', clientMsgId: 'c-2' },
      ],
    });
    await client.query(`SET plan_cache_mode = force_generic_plan`);
    await client.query(`PREPARE young_read AS ${statement.text}`);
    const literal = (value: unknown) =>
      Array.isArray(value)
        ? `${client.escapeLiteral(`{${value.map((v) => `"${String(v)}"`).join(',')}}`)}`
        : client.escapeLiteral(String(value));
    const { rows } = await client.query<{ 'QUERY PLAN': [{ Plan: Record<string, unknown> }] }>(
      `EXPLAIN (FORMAT JSON) EXECUTE young_read(${(statement.values ?? []).map(literal).join(', ')})`,
    );
    const onMessages = nodes(rows[0]['QUERY PLAN'][0].Plan).filter((n) => n['Relation Name'] === 'seqcast_messages');
    expect(onMessages.map((n) => [n['Node Type'], n['Index Name']])).toEqual([
      ['Index Scan', 'uq_seqcast_messages_sender_client_msg'],
      ['Index Only Scan', 'pk_seqcast_messages'],
    ]);
  });
});
