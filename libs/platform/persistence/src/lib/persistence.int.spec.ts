import type { Message } from '@seqcast/contracts';
import { createTestDatabase, type TestDatabase } from '@seqcast/testing';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { DatabaseError, ensureDatabase, openDatabase, probeDatabase } from './database';
import { pruneHistoryBatch } from './history-retention';
import { MessageHistoryRepository } from './message-history.repository';
import { type PartitionClaim, type SequencedBatch, SequencerStore } from './sequencer.store';

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
function commit(store: SequencerStore, claim: PartitionClaim, fromOffset: number, batch: SequencedBatch) {
  const offsets = [...batch.messages.map((m) => m.seq), ...batch.deadLetters.map((d) => d.offset)];
  return store.commitBatch(claim, {
    fromOffset,
    nextOffset: Math.max(fromOffset - 1, ...offsets) + 1,
    roomIds: batch.messages.map((m) => m.roomId),
    ids: batch.messages.map((m) => ({ roomId: m.roomId, clientMsgId: m.clientMsgId })),
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

describe('opening the database', () => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    await db.drop();
  });

  it('migrates an empty database to exactly the entities, with an epoch, even when services start together', async () => {
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => openDatabase({ url: db.url, runMigrations: true })));
    try {
      const applied: { name: string }[] = await a.query('SELECT name FROM migrations');
      expect(applied.map((m) => m.name)).toEqual([
        'InitialSchema1764288000000',
        'HistoryRetentionIndex1764892800000',
        'ApiKeys1764993612000',
      ]);
      const pending = await a.driver.createSchemaBuilder().log();
      expect(pending.upQueries.map((q) => q.query)).toEqual([]);
      const epoch = await new MessageHistoryRepository(b).currentEpoch();
      expect(epoch).toMatch(/^e[0-9a-f]{12}$/);
      expect(await new MessageHistoryRepository(c).currentEpoch()).toBe(epoch);
      await expect(probeDatabase(a)).resolves.toBeUndefined();
    } finally {
      await Promise.all([a, b, c].map((ds) => ds.destroy()));
    }
    await expect(probeDatabase(a)).rejects.toThrow('closed');
  });

  it('refuses to start on an unmigrated schema when told not to migrate', async () => {
    await expect(openDatabase({ url: db.url, runMigrations: false })).rejects.toThrow(
      /pending migrations; start one service with DATABASE_RUN_MIGRATIONS=true/,
    );
  });

  it('names the database and hides the password when it cannot connect', async () => {
    const error = await openDatabase({ url: 'postgres://u:hunter2@127.0.0.1:1/nope', runMigrations: true }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DatabaseError);
    expect((error as Error).message).toContain('postgres://u:***@127.0.0.1:1/nope');
    expect((error as Error).message).not.toContain('hunter2');
  });

  it('ensureDatabase creates a missing database and is idempotent', async () => {
    const name = `seqcast_test_${randomBytes(5).toString('hex')}`;
    const url = new URL(db.url);
    url.pathname = `/${name}`;
    try {
      await Promise.all([ensureDatabase(url.toString()), ensureDatabase(url.toString())]);
      await ensureDatabase(url.toString());
      const ds = await openDatabase({ url: url.toString(), runMigrations: true });
      await ds.destroy();
    } finally {
      const admin = new Client({ connectionString: db.url });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.end();
    }
  });
});

describe('message store', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let store: SequencerStore;
  let history: MessageHistoryRepository;

  beforeAll(async () => {
    db = await createTestDatabase();
    dataSource = await openDatabase({ url: db.url, runMigrations: true });
    store = new SequencerStore(dataSource);
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
      deadLetters: [],
    });
    let seen: unknown;
    await store.commitBatch(claim, {
      fromOffset: 3,
      nextOffset: 4,
      roomIds: ['known-a', 'known-b', 'known-c', 'known-a'],
      ids: [
        { roomId: 'known-a', clientMsgId: 'c-1' },
        { roomId: 'known-b', clientMsgId: 'c-1' },
        { roomId: 'known-c', clientMsgId: 'c-2' },
      ],
      sequence: (known) => {
        seen = {
          stored: Object.fromEntries([...known.stored].map(([room, ids]) => [room, [...ids]])),
          heads: Object.fromEntries(known.heads),
        };
        return { messages: [], deadLetters: [] };
      },
    });
    expect(seen).toEqual({ stored: { 'known-a': ['c-1'] }, heads: { 'known-a': 1, 'known-b': 2 } });
    expect(await position(dataSource, claim)).toMatchObject({ nextOffset: 4 });
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
