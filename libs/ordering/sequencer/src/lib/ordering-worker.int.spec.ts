/**
 * The worker against the real broker and PostgreSQL: every test gets a fresh database, its own
 * topics and consumer group, and asserts on the stored rows and the events topic, never on mocks.
 */
import { randomBytes } from 'node:crypto';
import { Logger, type LoggerService } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { IngestRecord, Message } from '@seqcast/contracts';
import { type Consumer, ensureTopics, type Kafka, RoomProducer } from '@seqcast/kafka';
import { PostgresSequencerStore } from '@seqcast/ordering-data-access';
import { type DataSource, MessageHistoryRepository } from '@seqcast/persistence';
import { partitionForRoom } from '@seqcast/room-partitioner';
import { waitFor } from '@seqcast/testing';
import type { Producer } from 'kafkajs';
import { OrderingWorkerModule } from './ordering-worker.module';
import type { FaultContext, WorkerFaults } from './ordering-worker.options';
import { OrderingWorkerService } from './ordering-worker.service';
import { openWorkerFixture, type WorkerFixture } from '../testing';
import { workerMetrics } from './worker.metrics';

const PARTITIONS = 3;

// Worker logs are asserted on (fencing) and kept off the console unless SEQCAST_TEST_LOGS=1.
const logLines: string[] = [];
const capture = (level: string) => (message: unknown, context?: unknown) => {
  const line = `${level} [${String(context ?? '')}] ${String(message)}`;
  logLines.push(line);
  if (process.env['SEQCAST_TEST_LOGS']) process.stdout.write(`${line}\n`);
};
const capturingLogger: LoggerService = {
  log: capture('LOG'),
  warn: capture('WARN'),
  error: capture('ERROR'),
  debug: capture('DEBUG'),
  verbose: capture('VERBOSE'),
};

interface Sent {
  roomId: string;
  clientMsgId: string;
  partition: number;
  offset: number;
}

interface Row {
  roomId: string;
  clientMsgId: string;
  seq: number;
  prevSeq: number | null;
  partition: number;
}

/** Room ids on a given partition, deterministic per test run prefix. */
function roomsOn(prefix: string, partition: number, count: number): string[] {
  const rooms: string[] = [];
  for (let i = 0; rooms.length < count; i++) {
    if (partitionForRoom(`${prefix}-${i}`, PARTITIONS) === partition) rooms.push(`${prefix}-${i}`);
  }
  return rooms;
}

function ingest(roomId: string, clientMsgId: string, extra: Record<string, unknown> = {}): IngestRecord {
  return {
    v: 1,
    roomId,
    clientMsgId,
    senderId: 'tester',
    payload: { text: `${roomId}/${clientMsgId}` },
    sentAt: new Date().toISOString(),
    ...extra,
  } as IngestRecord;
}

/** What the rows must be: one per (room, clientMsgId), seq = offset of the first copy, chained. */
function expectedRows(sent: Sent[]): Row[] {
  const first = new Map<string, Sent>();
  for (const s of [...sent].sort((a, b) => a.offset - b.offset)) {
    const key = `${s.roomId}\u0000${s.clientMsgId}`;
    if (!first.has(key)) first.set(key, s);
  }
  const rows = [...first.values()].sort((a, b) => a.roomId.localeCompare(b.roomId) || a.offset - b.offset);
  let previous: Row | undefined;
  return rows.map((s) => {
    const prevSeq = previous?.roomId === s.roomId ? previous.seq : null;
    previous = { roomId: s.roomId, clientMsgId: s.clientMsgId, seq: s.offset, prevSeq, partition: s.partition };
    return previous;
  });
}

describe('OrderingWorkerService (real Kafka + PostgreSQL)', () => {
  let fixture: WorkerFixture;
  let dataSource: DataSource;
  let kafka: Kafka;
  let producer: RoomProducer;
  let rawProducer: Producer;
  let topics: { messagesTopic: string; eventsTopic: string };
  let groupId: string;
  let workers: OrderingWorkerService[];
  let collectors: Consumer[];

  beforeEach(async () => {
    // Re-applied per test: compiling a Nest testing module installs its own logger.
    Logger.overrideLogger(capturingLogger);
    logLines.length = 0;
    workers = [];
    collectors = [];
    fixture = await openWorkerFixture('ordering-int', PARTITIONS);
    ({ dataSource, kafka, topics, groupId, producer, rawProducer } = fixture);
  });

  afterEach(async () => {
    await Promise.all(workers.map((worker) => worker.stop()));
    await Promise.all(collectors.map((consumer) => consumer.disconnect()));
    await fixture.close();
  });

  function newWorker(
    options: { faults?: WorkerFaults; owner?: string; courtesyCommitIntervalMs?: number } = {},
  ): OrderingWorkerService {
    const worker = new OrderingWorkerService(
      {
        ...topics,
        partitions: PARTITIONS,
        groupId,
        partitionsConsumedConcurrently: 3,
        owner: options.owner,
        retryInitialMs: 50,
        retryMaxMs: 500,
        fencedPauseMs: 1_000,
        sessionTimeoutMs: 10_000,
        heartbeatIntervalMs: 500,
        courtesyCommitIntervalMs: options.courtesyCommitIntervalMs,
      },
      kafka,
      dataSource,
      options.faults,
    );
    workers.push(worker);
    return worker;
  }

  async function publish(items: { roomId: string; clientMsgId: string }[]): Promise<Sent[]> {
    const produced = await producer.send(
      topics.messagesTopic,
      items.map(({ roomId, clientMsgId }) => ({ roomId, value: JSON.stringify(ingest(roomId, clientMsgId)) })),
    );
    return produced.map((p, i) => ({ ...p, clientMsgId: items[i]?.clientMsgId ?? '' }));
  }

  /** A spread of rooms over all partitions, with some ids sent twice (client retries). */
  async function publishMix(prefix: string, perRoom: number): Promise<Sent[]> {
    const rooms = [0, 1, 2].flatMap((p) => roomsOn(prefix, p, 3));
    const items = rooms.flatMap((roomId) =>
      Array.from({ length: perRoom }, (_, i) => ({ roomId, clientMsgId: `m${i}` })),
    );
    const retries = rooms.map((roomId) => ({ roomId, clientMsgId: 'm0' }));
    return publish([...items, ...retries]);
  }

  async function storedRows(): Promise<Row[]> {
    const rows: { room_id: string; client_msg_id: string; seq: string; prev_seq: string | null; partition: number }[] =
      await dataSource.query(
        `SELECT room_id, client_msg_id, seq, prev_seq, partition FROM seqcast_messages
          WHERE epoch = (SELECT value FROM seqcast_meta WHERE key = 'epoch') ORDER BY room_id, seq`,
      );
    return rows.map((r) => ({
      roomId: r.room_id,
      clientMsgId: r.client_msg_id,
      seq: Number(r.seq),
      prevSeq: r.prev_seq === null ? null : Number(r.prev_seq),
      partition: r.partition,
    }));
  }

  /** Stored messages in their wire shape, via the outbox reader (all partitions, from seq 0). */
  async function fullRows(): Promise<Message[]> {
    const store = new PostgresSequencerStore(dataSource);
    const base = await claimLess();
    const pages = await Promise.all(
      Array.from({ length: PARTITIONS }, (_, partition) => store.findUnpublished({ ...base, partition }, 0, 10_000)),
    );
    return pages.flat();
  }

  /** Enough of a claim to read with (findUnpublished only uses epoch and partition). */
  async function claimLess() {
    const epoch = await new MessageHistoryRepository(dataSource).currentEpoch();
    return { epoch, topic: topics.messagesTopic, generation: 0, owner: 'reader', nextOffset: 0, publishedOffset: 0 };
  }

  async function positions(): Promise<
    Map<number, { nextOffset: number; publishedOffset: number; generation: number; owner: string }>
  > {
    const rows: {
      partition: number;
      next_offset: string;
      published_offset: string;
      generation: string;
      owner: string;
    }[] = await dataSource.query(
      `SELECT partition, next_offset, published_offset, generation, owner FROM seqcast_partition_positions
          WHERE topic = $1 AND epoch = (SELECT value FROM seqcast_meta WHERE key = 'epoch')`,
      [topics.messagesTopic],
    );
    return new Map(
      rows.map((r) => [
        r.partition,
        {
          nextOffset: Number(r.next_offset),
          publishedOffset: Number(r.published_offset),
          generation: Number(r.generation),
          owner: r.owner,
        },
      ]),
    );
  }

  /** Everything that reaches the events topic, with the partition it was on. */
  async function collectEvents(): Promise<{ partition: number; message: Message }[]> {
    const events: { partition: number; message: Message }[] = [];
    const consumer = kafka.consumer({ groupId: `collector-${randomBytes(4).toString('hex')}` });
    collectors.push(consumer);
    await consumer.connect();
    await consumer.subscribe({ topics: [topics.eventsTopic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        events.push({ partition, message: JSON.parse(String(message.value)) as Message });
      },
    });
    return events;
  }

  async function waitForRows(expected: Row[], what: string): Promise<void> {
    await waitFor(async () => (await storedRows()).length >= expected.length, { timeoutMs: 30_000, what });
    expect(await storedRows()).toEqual(expected);
  }

  /** Every expected message on the events topic, on its own partition (duplicates allowed). */
  async function waitForEvents(events: { partition: number; message: Message }[], expected: Row[]): Promise<void> {
    const key = (roomId: string, seq: number) => `${roomId}@${seq}`;
    await waitFor(
      () => {
        const seen = new Set(events.map((e) => key(e.message.roomId, e.message.seq)));
        return expected.every((row) => seen.has(key(row.roomId, row.seq)));
      },
      { timeoutMs: 30_000, what: `all ${expected.length} messages on the events topic` },
    );
    for (const { partition, message } of events) {
      expect(partition).toBe(partitionForRoom(message.roomId, PARTITIONS));
    }
    const unique = new Map(events.map((e) => [key(e.message.roomId, e.message.seq), e.message]));
    expect(
      [...unique.values()]
        .map((m) => ({ roomId: m.roomId, clientMsgId: m.clientMsgId, seq: m.seq, prevSeq: m.prevSeq }))
        .sort((a, b) => a.roomId.localeCompare(b.roomId) || a.seq - b.seq),
    ).toEqual(expected.map(({ roomId, clientMsgId, seq, prevSeq }) => ({ roomId, clientMsgId, seq, prevSeq })));
  }

  /**
   * What a consumer that drops seq ≤ the highest it holds (gateway, SDK) sees: per room, in topic
   * order, a chain without gaps. Publishing behind the commit must keep a partition's events in
   * commit order; a republish may repeat earlier events, never skip ahead.
   */
  function expectGaplessChains(events: { message: Message }[]): void {
    const held = new Map<string, number | null>();
    const gaps: string[] = [];
    for (const { message } of events) {
      const last = held.has(message.roomId) ? (held.get(message.roomId) as number | null) : null;
      if (held.has(message.roomId) && last !== null && message.seq <= last) continue;
      if (message.prevSeq !== last)
        gaps.push(`${message.roomId}: seq ${message.seq} after ${last}, prevSeq ${message.prevSeq}`);
      held.set(message.roomId, message.seq);
    }
    expect(gaps).toEqual([]);
  }

  it('sequences into chained rows (seq = offset of the first copy) and republishes on the same partition', async () => {
    const sent = await publishMix('flow', 4);
    const expected = expectedRows(sent);
    expect(expected).toHaveLength(9 * 4);
    const events = await collectEvents();
    await newWorker().start();

    await waitForRows(expected, 'every message stored');
    await waitForEvents(events, expected);
    expectGaplessChains(events);
    // The events carry exactly what history serves.
    const stored = await fullRows();
    for (const event of events) {
      expect(stored).toContainEqual(event.message);
    }
    const endOf = (p: number) => Math.max(...sent.filter((s) => s.partition === p).map((s) => s.offset)) + 1;
    // The published position at the log end is written after the events are out (in the background).
    const ends = await waitFor(
      async () => {
        const current = await positions();
        const all = Array.from({ length: PARTITIONS }, (_, p) => current.get(p)?.publishedOffset === endOf(p));
        return all.every(Boolean) ? current : undefined;
      },
      { what: "every partition's published position at its log end" },
    );
    for (let p = 0; p < PARTITIONS; p++) {
      const end = endOf(p);
      expect(ends.get(p)).toMatchObject({ nextOffset: end, publishedOffset: end, generation: 1 });
    }
    expect(logLines.some((l) => /batch of \d+ .*: \d+ sequenced, [1-9]\d* duplicates, 0 dead-lettered/.test(l))).toBe(
      true,
    );
  });

  it('commits Kafka offsets as a courtesy in time, and every pending one on a clean stop', async () => {
    const sent = await publishMix('courtesy', 2);
    const expected = expectedRows(sent);
    // An interval no test outlasts: whatever Kafka holds at the end, the stop committed.
    const worker = newWorker({ courtesyCommitIntervalMs: 600_000 });
    await worker.start();
    await waitForRows(expected, 'every message stored');
    const admin = kafka.admin();
    await admin.connect();
    try {
      const committed = async () =>
        new Map(
          (await admin.fetchOffsets({ groupId, topics: [topics.messagesTopic] }))[0]?.partitions.map((p) => [
            p.partition,
            Number(p.offset),
          ]),
        );
      const endOf = (p: number) => Math.max(...sent.filter((s) => s.partition === p).map((s) => s.offset)) + 1;
      const partitions = [...new Set(sent.map((s) => s.partition))];
      expect(partitions.length).toBeGreaterThan(1);
      const before = await committed();
      for (const p of partitions) expect(before.get(p) ?? -1).toBeLessThan(endOf(p));
      await worker.stop();
      const after = await committed();
      for (const p of partitions) expect(after.get(p)).toBe(endOf(p));
    } finally {
      await admin.disconnect();
    }
  });

  it('scopes idempotency to the sender and dead-letters a key re-used for another payload', async () => {
    const [room] = roomsOn('idem', 1, 1);
    const record = (senderId: string, clientMsgId: string, payload: unknown) => ({
      roomId: room,
      value: JSON.stringify(ingest(room, clientMsgId, { senderId, payload })),
    });
    // As two ingest instances would write them: neither saw the other's copies.
    const produced = await producer.send(topics.messagesTopic, [
      record('alice', 'c-0001', { text: 'from alice' }),
      record('bob', 'c-0001', { text: 'from bob' }),
      record('alice', 'c-0001', { text: 'from alice' }), // retry
      record('alice', 'c-0001', { text: 'edited' }), // re-used key
    ]);
    const [a, b, retry, reused] = produced.map((p) => p.offset);
    const conflicts = async () => (await workerMetrics.idempotencyConflicts.get()).values[0]?.value ?? 0;
    const conflictsBefore = await conflicts();
    const events = await collectEvents();
    await newWorker().start();

    const expected: Row[] = [
      { roomId: room, clientMsgId: 'c-0001', seq: a, prevSeq: null, partition: 1 },
      { roomId: room, clientMsgId: 'c-0001', seq: b, prevSeq: a, partition: 1 },
    ];
    await waitFor(async () => (await positions()).get(1)?.nextOffset === reused + 1, {
      timeoutMs: 30_000,
      what: 'every record of partition 1 sequenced',
    });
    expect(await storedRows()).toEqual(expected);
    await waitForEvents(events, expected);
    const stored = await new MessageHistoryRepository(dataSource).findAfter(room, -1, 10);
    expect(stored.map((m) => [m.senderId, m.payload])).toEqual([
      ['alice', { text: 'from alice' }],
      ['bob', { text: 'from bob' }],
    ]);
    const letters: { offset: string; reason: string }[] = await dataSource.query(
      `SELECT "offset", reason FROM seqcast_dead_letters WHERE topic = $1 ORDER BY "offset"`,
      [topics.messagesTopic],
    );
    expect(letters).toEqual([{ offset: String(reused), reason: expect.stringMatching(/^idempotency_conflict: /) }]);
    // Names the copy that stays the message: stored (seq) or earlier in the same batch (offset).
    expect(letters[0]?.reason).toMatch(new RegExp(`(seq|offset) ${a} `));
    expect(await conflicts()).toBe(conflictsBefore + 1);
    expect(retry).toBeGreaterThan(b);
  });

  it('keeps a retry that crosses batches a duplicate, and a re-used key a conflict, once the room is known', async () => {
    const [room] = roomsOn('cross', 2, 1);
    const record = (clientMsgId: string, text: string) => ({
      roomId: room,
      value: JSON.stringify(ingest(room, clientMsgId, { senderId: 'alice', payload: { text } })),
    });
    const counter = async (
      metric: { get(): Promise<{ values: { value: number; labels: object }[] }> },
      path?: string,
    ) =>
      (await metric.get()).values
        .filter((v) => path === undefined || (v.labels as { path?: string }).path === path)
        .reduce((sum, v) => sum + v.value, 0);
    const before = {
      write: await counter(workerMetrics.commitPaths, 'write'),
      retried: await counter(workerMetrics.commitPaths, 'retried'),
      duplicates: await counter(workerMetrics.duplicatesDropped),
      conflicts: await counter(workerMetrics.idempotencyConflicts),
    };
    await newWorker().start();
    const sequenced = (offset: number) =>
      waitFor(async () => (await positions()).get(2)?.nextOffset === offset + 1, {
        timeoutMs: 30_000,
        what: `partition 2 sequenced through offset ${offset}`,
      });
    // Batch 1 reads the new room; batch 2 knows its head, so it is one statement.
    const [first] = await producer.send(topics.messagesTopic, [record('c-1', 'first')]);
    await sequenced(first?.offset ?? -1);
    const [second] = await producer.send(topics.messagesTopic, [record('c-2', 'second')]);
    await sequenced(second?.offset ?? -1);
    expect(await counter(workerMetrics.commitPaths, 'write')).toBeGreaterThan(before.write);
    // Batch 3: c-1 again (a retry), c-1 with another payload (a re-used key), and a new message.
    const third = await producer.send(topics.messagesTopic, [
      record('c-1', 'first'),
      record('c-1', 'edited'),
      record('c-3', 'third'),
    ]);
    const [, reused, last] = third.map((p) => p.offset);
    await sequenced(last ?? -1);

    const a = first?.offset ?? -1;
    const b = second?.offset ?? -1;
    expect((await storedRows()).filter((row) => row.roomId === room)).toEqual([
      { roomId: room, clientMsgId: 'c-1', seq: a, prevSeq: null, partition: 2 },
      { roomId: room, clientMsgId: 'c-2', seq: b, prevSeq: a, partition: 2 },
      { roomId: room, clientMsgId: 'c-3', seq: last, prevSeq: b, partition: 2 },
    ]);
    const letters: { offset: string; reason: string }[] = await dataSource.query(
      `SELECT "offset", reason FROM seqcast_dead_letters WHERE topic = $1 AND partition = 2`,
      [topics.messagesTopic],
    );
    expect(letters).toEqual([
      { offset: String(reused), reason: expect.stringMatching(/^idempotency_conflict: .* seq /) },
    ]);
    expect(await counter(workerMetrics.duplicatesDropped)).toBe(before.duplicates + 1);
    expect(await counter(workerMetrics.idempotencyConflicts)).toBe(before.conflicts + 1);
    // The one statement met the stored key and the batch was read and written again.
    expect(await counter(workerMetrics.commitPaths, 'retried')).toBeGreaterThan(before.retried);
  });

  it('runs as a Nest module: consumes from application bootstrap, leaves the group on close', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        OrderingWorkerModule.register({
          settings: { ...topics, partitions: PARTITIONS, groupId, partitionsConsumedConcurrently: 2, owner: 'nest' },
          kafka: { useFactory: () => kafka },
          dataSource: { useFactory: () => dataSource },
        }),
      ],
    })
      .setLogger(capturingLogger)
      .compile();
    const worker = moduleRef.get(OrderingWorkerService);
    workers.push(worker);
    await moduleRef.init();
    expect(worker.running).toBe(true);
    const sent = await publish([{ roomId: 'nest-room', clientMsgId: 'hello' }]);
    await waitForRows(expectedRows(sent), 'the message stored by the Nest-hosted worker');
    await moduleRef.close();
    expect(worker.running).toBe(false);
    expect(logLines).toContainEqual(
      expect.stringMatching(/^LOG \[OrderingWorker\] worker nest stopped and left the group in \d+ ms$/),
    );
  });

  it('loses and duplicates nothing when a worker dies before COMMIT', async () => {
    const sent = await publishMix('before', 5);
    const expected = expectedRows(sent);
    let crashed: FaultContext | undefined;
    const first = newWorker({
      faults: {
        beforeCommit: async (context) => {
          if (crashed) return;
          crashed = context;
          throw new Error('power cut before commit');
        },
      },
    });
    await first.start();
    const atCrash = await waitFor(() => crashed, { what: 'the crash before commit' });
    await waitFor(() => !first.running, { what: 'worker 1 to stop consuming' });
    await first.stop();
    expect(atCrash.messages.length).toBeGreaterThan(0);
    const afterCrash = await storedRows();
    for (const message of atCrash.messages) {
      expect(afterCrash).not.toContainEqual(expect.objectContaining({ roomId: message.roomId, seq: message.seq }));
    }

    const events = await collectEvents();
    await newWorker().start();
    await waitForRows(expected, 'the second worker to store everything');
    await waitForEvents(events, expected);
  });

  it('republishes committed but unpublished messages when a worker dies after COMMIT', async () => {
    const sent = await publishMix('after', 5);
    const expected = expectedRows(sent);
    let crashed: FaultContext | undefined;
    const first = newWorker({
      faults: {
        afterCommit: async (context) => {
          if (crashed) return;
          crashed = context;
          throw new Error('power cut after commit');
        },
      },
    });
    const events = await collectEvents();
    await first.start();
    const atCrash = await waitFor(() => crashed, { what: 'the crash after commit' });
    await waitFor(() => !first.running, { what: 'worker 1 to stop consuming' });
    await first.stop();

    // Committed, chained, but the outbox still owes them to the events topic.
    const snapshot = await fullRows();
    expect(atCrash.messages.length).toBeGreaterThan(0);
    for (const message of atCrash.messages) expect(snapshot).toContainEqual(message);
    const position = (await positions()).get(atCrash.partition);
    expect(position?.publishedOffset).toBeLessThan(position?.nextOffset ?? 0);

    await newWorker().start();
    await waitForRows(expected, 'the second worker to store everything');
    await waitForEvents(events, expected);
    expectGaplessChains(events);
    // Nothing committed before the crash was sequenced again.
    const final = await fullRows();
    for (const message of snapshot) expect(final).toContainEqual(message);
    expect(logLines.some((l) => /republished \d+ stored messages/.test(l))).toBe(true);
  });

  it('dead-letters poison records and keeps the partition moving', async () => {
    const [room, other] = roomsOn('poison', 0, 2) as [string, string];
    const [foreign] = roomsOn('poison', 1, 1) as [string];
    const send = (key: string | null, value: string | Buffer) =>
      rawProducer.send({ topic: topics.messagesTopic, messages: [{ partition: 0, key, value }] });
    const json = (record: unknown) => JSON.stringify(record);
    await send(room, json(ingest(room, 'ok-1')));
    await send(room, 'raw garbage {');
    await send(room, json(ingest(room, 'bad-v', { v: 2 })));
    await send(room, json({ ...ingest(room, 'no-sender'), senderId: '' }));
    await send(other, json(ingest(room, 'wrong-key')));
    await send(foreign, json(ingest(foreign, 'wrong-partition')));
    await send(null, Buffer.from([0xde, 0xad, 0xbe, 0xef]));
    await send(room, json(ingest(room, 'ok-2')));
    await send(room, json(ingest(room, 'ok-1')));

    await newWorker().start();
    await waitFor(async () => (await positions()).get(0)?.nextOffset === 9, { what: 'partition 0 to pass offset 8' });
    expect(await storedRows()).toEqual([
      { roomId: room, clientMsgId: 'ok-1', seq: 0, prevSeq: null, partition: 0 },
      { roomId: room, clientMsgId: 'ok-2', seq: 7, prevSeq: 0, partition: 0 },
    ]);
    const letters: { offset: string; reason: string; key: string | null; value: string | null }[] =
      await dataSource.query(
        `SELECT "offset", reason, key, value FROM seqcast_dead_letters WHERE topic = $1 AND partition = 0 ORDER BY "offset"`,
        [topics.messagesTopic],
      );
    expect(letters.map((l) => [Number(l.offset), l.reason])).toEqual([
      [1, expect.stringMatching(/^value is not JSON: /)],
      [2, expect.stringMatching(/^invalid ingest record: v: /)],
      [3, expect.stringMatching(/^invalid ingest record: senderId: /)],
      [4, `key "${other}" does not match roomId "${room}"`],
      [5, `room "${foreign}" belongs to partition 1 of 3, record is in partition 0`],
      [6, 'value is not UTF-8 text'],
    ]);
    expect(letters[0]).toMatchObject({ key: room, value: 'raw garbage {' });
    expect(letters[5]).toMatchObject({ key: null, value: 'base64:3q2+7w==' });
  });

  it('keeps order, loses and duplicates nothing while two workers rebalance under load', async () => {
    const rooms = Array.from({ length: 12 }, (_, i) => `rebalance-${i}`);
    const sent: Sent[] = [];
    let stopFlow = false;
    let n = 0;
    // Sequential sends until told to stop (bounded): messages are flowing during each rebalance.
    const flow = (async () => {
      while (!stopFlow && n < 3_000) {
        const batch = rooms.slice(0, 1 + (n % 4)).map((roomId) => ({ roomId, clientMsgId: `c${n}` }));
        if (n % 7 === 0) batch.push({ roomId: rooms[n % rooms.length] ?? 'x', clientMsgId: `c${n - 7}` });
        sent.push(...(await publish(batch)));
        n++;
      }
    })();
    const a = newWorker({ owner: 'worker-a' });
    await a.start();
    await waitFor(async () => (await storedRows()).length > 20, {
      timeoutMs: 30_000,
      what: 'worker a to make progress',
    });

    const b = newWorker({ owner: 'worker-b' });
    await b.start();
    await waitFor(async () => [...(await positions()).values()].some((p) => p.owner === 'worker-b'), {
      timeoutMs: 30_000,
      what: 'worker b to claim a partition',
    });
    const rowsWhenBJoined = (await storedRows()).length;
    await waitFor(async () => (await storedRows()).length > rowsWhenBJoined + 20, {
      timeoutMs: 30_000,
      what: 'progress with both workers',
    });

    await a.stop();
    await waitFor(async () => [...(await positions()).values()].every((p) => p.owner === 'worker-b'), {
      timeoutMs: 30_000,
      what: 'worker b to own every partition',
    });
    const rowsWhenAStopped = (await storedRows()).length;
    await waitFor(async () => (await storedRows()).length > rowsWhenAStopped + 20, {
      timeoutMs: 30_000,
      what: 'progress after worker a left',
    });
    stopFlow = true;
    await flow;

    const expected = expectedRows(sent);
    const events = await collectEvents();
    await waitForRows(expected, `all ${expected.length} messages stored`);
    await waitForEvents(events, expected);
    expectGaplessChains(events);
    for (const position of (await positions()).values()) expect(position.generation).toBeGreaterThanOrEqual(2);
  }, 150_000);

  it('refuses a commit from a stale claim, and the worker re-claims a partition it still holds', async () => {
    const [room] = roomsOn('fence', 0, 1) as [string];
    const worker = newWorker({ owner: 'worker-a' });
    await worker.start();
    await publish([{ roomId: room, clientMsgId: 'one' }]);
    // Published too, not only committed: a claim taken between the two would fence the publish
    // record instead ("generation changed before the published position…"), not the commit.
    await waitFor(
      async () => {
        const position = (await positions()).get(0);
        return position?.nextOffset === 1 && position.publishedOffset === 1;
      },
      { what: 'the first message committed and published' },
    );

    // Another worker (as far as PostgreSQL knows) takes partition 0.
    const store = new PostgresSequencerStore(dataSource);
    const intruder = await store.claim({
      topic: topics.messagesTopic,
      partition: 0,
      owner: 'intruder',
      initialOffset: 0,
    });
    expect(intruder.generation).toBe(2);
    await publish([{ roomId: room, clientMsgId: 'two' }]);

    await waitFor(() => logLines.some((l) => /partition 0 fenced \(gen 1\): generation is 2/.test(l)), {
      what: 'worker a to be fenced',
    });
    // Kafka still assigns partition 0 to worker a, so it claims again and finishes the work once.
    await waitFor(async () => (await positions()).get(0)?.nextOffset === 2, { what: 'the second message' });
    expect(await storedRows()).toEqual([
      { roomId: room, clientMsgId: 'one', seq: 0, prevSeq: null, partition: 0 },
      { roomId: room, clientMsgId: 'two', seq: 1, prevSeq: 0, partition: 0 },
    ]);
    expect((await positions()).get(0)).toMatchObject({ generation: 3, owner: 'worker-a' });
    // ...and now the intruder's claim is the stale one.
    const outcome = await store.commitBatch(intruder, {
      fromOffset: 2,
      nextOffset: 3,
      roomIds: [],
      ids: [],
      sequence: () => ({ messages: [], deadLetters: [] }),
    });
    expect(outcome).toEqual({ status: 'fenced', reason: 'generation is 3, this claim holds 2' });
  });

  it('rotates the epoch when the input topic was recreated, and numbering restarts', async () => {
    const [room] = roomsOn('reset', 1, 1) as [string];
    const history = new MessageHistoryRepository(dataSource);
    const oldEpoch = await history.currentEpoch();
    const first = newWorker();
    await first.start();
    await publish(['a', 'b', 'c'].map((clientMsgId) => ({ roomId: room, clientMsgId })));
    await waitFor(async () => (await history.headSeq(room)) === 2, { what: 'the first three messages' });
    await first.stop();

    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.deleteTopics({ topics: [topics.messagesTopic] });
      await waitFor(async () => !(await admin.listTopics()).includes(topics.messagesTopic), {
        what: 'the topic deletion',
      });
      await waitFor(
        async () => {
          await ensureTopics(kafka, [{ name: topics.messagesTopic, partitions: PARTITIONS }]);
          const offsets = await admin.fetchTopicOffsets(topics.messagesTopic);
          return offsets.every((o) => o.high === '0');
        },
        { timeoutMs: 30_000, what: 'the topic to be recreated empty' },
      );
    } finally {
      await admin.disconnect();
    }
    // The idempotent producer's state belongs to the old topic: start a fresh one.
    await producer.disconnect();
    producer = new RoomProducer(kafka, { partitions: PARTITIONS });
    await producer.connect();
    await publish([{ roomId: room, clientMsgId: 'fresh' }]);

    await newWorker().start();
    await waitFor(async () => (await history.currentEpoch()) !== oldEpoch, { timeoutMs: 30_000, what: 'a new epoch' });
    await waitFor(async () => (await history.headSeq(room)) === 0, { timeoutMs: 30_000, what: 'the fresh message' });
    const [fresh] = await history.findAfter(room, -1, 10);
    expect(fresh).toMatchObject({ clientMsgId: 'fresh', seq: 0, prevSeq: null, epoch: await history.currentEpoch() });
    expect(logLines.some((l) => /input log was reset .* epoch .* → /.test(l))).toBe(true);
  });
});
