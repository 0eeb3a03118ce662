/**
 * The ordering worker's operational behaviour, composed as the app composes it and run in-process
 * against the real broker and PostgreSQL: graceful drain with a fast hand-over to the next worker,
 * /metrics after a short run (counts equal to what was sent, lag per partition), and history
 * retention.
 */
import type { IngestRecord } from '@seqcast/contracts';
import { type Consumer, fetchLogEndOffsets, type Kafka, RoomProducer } from '@seqcast/kafka';
import { type DataSource, MessageHistoryRepository } from '@seqcast/persistence';
import { partitionForRoom } from '@seqcast/room-partitioner';
import { sample, waitFor } from '@seqcast/testing';
import type { Producer } from 'kafkajs';
import type { FaultContext, OrderingWorkerSettings } from './ordering-worker.options';
import {
  openWorkerFixture,
  type RunningWorkerService,
  scrape,
  startWorkerService,
  type WorkerFixture,
} from '../testing';

const PARTITIONS = 3;

interface Sent {
  roomId: string;
  clientMsgId: string;
  partition: number;
  offset: number;
}

function roomsOn(prefix: string, partition: number, count: number): string[] {
  const rooms: string[] = [];
  for (let i = 0; rooms.length < count; i++) {
    if (partitionForRoom(`${prefix}-${i}`, PARTITIONS) === partition) rooms.push(`${prefix}-${i}`);
  }
  return rooms;
}

function ingest(roomId: string, clientMsgId: string): IngestRecord {
  return { v: 1, roomId, clientMsgId, senderId: 'tester', payload: { clientMsgId }, sentAt: new Date().toISOString() };
}

/** A beforeCommit hook that, once armed, holds the next batch until released. */
function batchGate() {
  let armed = false;
  let entered: (context: FaultContext) => void = () => undefined;
  let release: () => void = () => undefined;
  const held = new Promise<FaultContext>((resolve) => (entered = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  return {
    arm: () => (armed = true),
    held,
    release: () => release(),
    hook: async (context: FaultContext) => {
      if (!armed) return;
      armed = false;
      entered(context);
      await released;
    },
  };
}

describe('ordering-worker operations (real Kafka + PostgreSQL)', () => {
  let fixture: WorkerFixture;
  let dataSource: DataSource;
  let kafka: Kafka;
  let producer: RoomProducer;
  let rawProducer: Producer;
  let topics: { messagesTopic: string; eventsTopic: string };
  let groupId: string;
  const services: RunningWorkerService[] = [];
  const collectors: Consumer[] = [];

  beforeEach(async () => {
    fixture = await openWorkerFixture('ordering-ops', PARTITIONS);
    ({ dataSource, kafka, topics, groupId, producer, rawProducer } = fixture);
  });

  afterEach(async () => {
    await Promise.all(services.splice(0).map((service) => service.close()));
    await Promise.all(collectors.splice(0).map((consumer) => consumer.disconnect()));
    await fixture.close();
  });

  async function startWorker(
    options: { hook?: (context: FaultContext) => Promise<void>; settings?: Partial<OrderingWorkerSettings> } = {},
  ): Promise<RunningWorkerService> {
    const service = await startWorkerService({
      kafka,
      dataSource,
      settings: {
        ...topics,
        partitions: PARTITIONS,
        groupId,
        partitionsConsumedConcurrently: 3,
        retryInitialMs: 50,
        retryMaxMs: 500,
        lagIntervalMs: 200,
        ...options.settings,
      },
      faults: options.hook ? { beforeCommit: options.hook } : undefined,
    });
    services.push(service);
    return service;
  }

  async function publish(items: { roomId: string; clientMsgId: string }[]): Promise<Sent[]> {
    const produced = await producer.send(
      topics.messagesTopic,
      items.map(({ roomId, clientMsgId }) => ({ roomId, value: JSON.stringify(ingest(roomId, clientMsgId)) })),
    );
    return produced.map((p, i) => ({ ...p, clientMsgId: items[i]?.clientMsgId ?? '' }));
  }

  async function storedCount(): Promise<number> {
    const rows: { n: string }[] = await dataSource.query(`SELECT count(*) AS n FROM seqcast_messages`);
    return Number(rows[0]?.n ?? 0);
  }

  async function owners(): Promise<Map<number, string>> {
    const rows: { partition: number; owner: string }[] = await dataSource.query(
      `SELECT partition, owner FROM seqcast_partition_positions WHERE topic = $1`,
      [topics.messagesTopic],
    );
    return new Map(rows.map((r) => [r.partition, r.owner]));
  }

  /** True once every partition's stored position is the log end: everything produced was sequenced. */
  async function positionsAtLogEnd(): Promise<boolean> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const ends = await fetchLogEndOffsets(admin, topics.messagesTopic);
      const rows: { partition: number; next_offset: string }[] = await dataSource.query(
        `SELECT partition, next_offset FROM seqcast_partition_positions WHERE topic = $1`,
        [topics.messagesTopic],
      );
      const positions = new Map(rows.map((r) => [r.partition, Number(r.next_offset)]));
      return [...ends].every(([partition, end]) => positions.get(partition) === end);
    } finally {
      await admin.disconnect();
    }
  }

  /** Every (roomId, seq) that reached the events topic, as `room/seq`. */
  async function collectEvents(): Promise<Set<string>> {
    const seen = new Set<string>();
    const consumer = kafka.consumer({ groupId: `${groupId}.events` });
    collectors.push(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic: topics.eventsTopic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const event = JSON.parse(message.value?.toString() ?? '{}') as { roomId: string; seq: number };
        seen.add(`${event.roomId}/${event.seq}`);
      },
    });
    return seen;
  }

  it('finishes the batch in flight, publishes it, leaves the group, and the next worker takes over within seconds', async () => {
    const gate = batchGate();
    const first = await startWorker({ hook: gate.hook });
    const second = await startWorker();
    await waitFor(
      () =>
        first.worker.assignedPartitions.length > 0 &&
        second.worker.assignedPartitions.length > 0 &&
        first.worker.assignedPartitions.length + second.worker.assignedPartitions.length === PARTITIONS,
      { timeoutMs: 30_000, what: 'both workers to share the partitions' },
    );
    const events = await collectEvents();
    const republishedBefore = sample(await scrape(first), 'seqcast_worker_republished_messages_total') ?? 0;

    // A steady stream over every partition while the first worker drains.
    const rooms = [0, 1, 2].flatMap((p) => roomsOn(`drain-${p}`, p, 3));
    const sent: Sent[] = [];
    let streaming = true;
    const stream = (async () => {
      for (let i = 0; streaming; i++) {
        sent.push(...(await publish(rooms.map((roomId) => ({ roomId, clientMsgId: `m${i}` })))));
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();

    gate.arm();
    const held = await gate.held;
    let closed = false;
    const closing = first.close().then(() => (closed = true));
    const ready = await fetch(`${first.baseUrl}/readyz`);
    expect(ready.status).toBe(503);
    expect(closed).toBe(false);
    const releasedAt = Date.now();
    gate.release();
    await closing;
    const leftAt = Date.now();

    // What the held batch committed is stored and was published by the worker that committed it.
    const history = new MessageHistoryRepository(dataSource);
    for (const message of held.messages) {
      const stored = await history.findAfter(message.roomId, message.seq - 1, 1);
      expect(stored[0]?.seq).toBe(message.seq);
    }
    const firstOwner = first.worker.owner;
    const handedOver = await waitFor(
      async () => {
        const current = await owners();
        return second.worker.assignedPartitions.length === PARTITIONS &&
          [...current.values()].every((owner) => owner === second.worker.owner) &&
          current.size === PARTITIONS
          ? Date.now()
          : undefined;
      },
      { timeoutMs: 25_000, intervalMs: 100, what: 'the second worker to claim every partition' },
    );
    const takeoverMs = handedOver - leftAt;
    // Far below the 30 s session timeout a worker that vanished without LeaveGroup would cost.
    expect(takeoverMs).toBeLessThan(15_000);
    const pauseMs = handedOver - releasedAt;
    expect(firstOwner).not.toBe(second.worker.owner);

    streaming = false;
    await stream;
    await waitFor(async () => (await storedCount()) === sent.length, {
      timeoutMs: 30_000,
      what: `${sent.length} stored messages`,
    });
    const rows: { room_id: string; seq: string; prev_seq: string | null; client_msg_id: string }[] =
      await dataSource.query(
        `SELECT room_id, seq, prev_seq, client_msg_id FROM seqcast_messages ORDER BY room_id, seq`,
      );
    const expected = [...sent].sort((a, b) => a.roomId.localeCompare(b.roomId) || a.offset - b.offset);
    expect(rows.map((r) => `${r.room_id}/${r.seq}/${r.client_msg_id}`)).toEqual(
      expected.map((s) => `${s.roomId}/${s.offset}/${s.clientMsgId}`),
    );
    for (const [i, row] of rows.entries()) {
      const previous = rows[i - 1];
      const chained = previous?.room_id === row.room_id ? previous.seq : null;
      expect({ row: `${row.room_id}/${row.seq}`, prevSeq: row.prev_seq }).toEqual({
        row: `${row.room_id}/${row.seq}`,
        prevSeq: chained,
      });
    }
    await waitFor(() => expected.every((s) => events.has(`${s.roomId}/${s.offset}`)), {
      timeoutMs: 30_000,
      what: 'every stored message on the events topic',
    });
    // Nothing had to be recovered from the outbox: the draining worker published what it committed.
    expect((sample(await scrape(second), 'seqcast_worker_republished_messages_total') ?? 0) - republishedBefore).toBe(
      0,
    );
    process.stdout.write(
      `worker drain: ${sent.length} messages, 0 lost, 0 duplicated; held batch of ${held.messages.length} committed ` +
        `and published during the drain; first worker closed ${leftAt - releasedAt} ms after its batch was released; ` +
        `partitions re-claimed ${takeoverMs} ms after it left (${pauseMs} ms from releasing the held batch to the new owner holding every partition)\n`,
    );
  }, 90_000);

  it('exports counts equal to what was sent, batch and publish latency, and lag per partition', async () => {
    const gate = batchGate();
    const service = await startWorker({ hook: gate.hook });
    await waitFor(() => service.worker.assignedPartitions.length === PARTITIONS, {
      timeoutMs: 30_000,
      what: 'the worker to be assigned every partition',
    });
    const before = await scrape(service);

    const rooms = [0, 1, 2].flatMap((p) => roomsOn(`metrics-${p}`, p, 3));
    await publish(rooms.flatMap((roomId) => [0, 1, 2, 3].map((i) => ({ roomId, clientMsgId: `m${i}` }))));
    await publish(rooms.map((roomId) => ({ roomId, clientMsgId: 'm0' }))); // client retries: duplicates
    await rawProducer.send({
      topic: topics.messagesTopic,
      messages: [
        { key: rooms[0], value: '{ not json', partition: 0 },
        { key: rooms[3], value: JSON.stringify({ v: 1, roomId: rooms[3] }), partition: 1 },
      ],
    });
    await waitFor(() => positionsAtLogEnd(), { timeoutMs: 30_000, what: 'every record sequenced' });
    expect(await storedCount()).toBe(36);

    // Lag: with every position at its log end, each partition reports 0 (set on the last batch or tick).
    const caughtUp = await waitFor(
      async () => {
        const text = await scrape(service);
        const lags = [0, 1, 2].map((p) =>
          sample(text, 'seqcast_worker_consumer_lag_messages', { partition: String(p) }),
        );
        return lags.every((lag) => lag === 0) ? text : undefined;
      },
      { timeoutMs: 15_000, what: 'lag 0 on every partition' },
    );
    const delta = (name: string) => (sample(caughtUp, name) ?? 0) - (sample(before, name) ?? 0);
    expect(delta('seqcast_worker_sequenced_messages_total')).toBe(36);
    expect(delta('seqcast_worker_duplicates_dropped_total')).toBe(9);
    expect(delta('seqcast_worker_dead_letters_total')).toBe(2);
    expect(delta('seqcast_worker_fenced_batches_total')).toBe(0);
    expect(delta('seqcast_worker_epoch_rotations_total')).toBe(0);
    expect(delta('seqcast_worker_batch_failures_total')).toBe(0);
    expect(delta('seqcast_worker_batch_duration_seconds_count')).toBeGreaterThanOrEqual(3);
    expect(delta('seqcast_worker_batch_duration_seconds_sum')).toBeGreaterThan(0);
    expect(delta('seqcast_worker_events_publish_duration_seconds_count')).toBeGreaterThanOrEqual(3);
    expect(sample(caughtUp, 'seqcast_worker_assigned_partitions')).toBe(PARTITIONS);
    expect(sample(caughtUp, 'seqcast_worker_pruned_messages_total')).toBe(0);
    expect(caughtUp).toMatch(/^seqcast_worker_consumer_lag_messages\{partition="0",service="ordering-worker"\} 0$/m);
    expect(sample(caughtUp, 'process_cpu_seconds_total', { service: 'ordering-worker' })).toBeGreaterThan(0);

    // A batch held before its commit leaves the position behind the log end by exactly its records.
    gate.arm();
    await publish(
      roomsOn('metrics-lag', 0, 1).flatMap((roomId) => [0, 1, 2, 3, 4].map((i) => ({ roomId, clientMsgId: `l${i}` }))),
    );
    await gate.held;
    await waitFor(
      async () => sample(await scrape(service), 'seqcast_worker_consumer_lag_messages', { partition: '0' }) === 5,
      { timeoutMs: 10_000, what: 'lag 5 on partition 0 while its batch is held' },
    );
    gate.release();
    await waitFor(
      async () => sample(await scrape(service), 'seqcast_worker_consumer_lag_messages', { partition: '0' }) === 0,
      { timeoutMs: 10_000, what: 'lag back to 0 once the batch committed' },
    );
  }, 90_000);

  it('prunes history older than the retention, keeping each room head, and counts what it pruned', async () => {
    const service = await startWorker({
      settings: { historyRetentionHours: 1, pruneIntervalMs: 200, pruneBatchSize: 2 },
    });
    const before = sample(await scrape(service), 'seqcast_worker_pruned_messages_total') ?? 0;
    const [aged, partlyAged, fresh] = ['aged', 'partly', 'fresh'].map(
      (prefix) => roomsOn(`retention-${prefix}`, 1, 1)[0] ?? '',
    );
    const sent = await publish(
      [aged, partlyAged, fresh].flatMap((roomId) => [0, 1, 2, 3, 4].map((i) => ({ roomId, clientMsgId: `r${i}` }))),
    );
    await waitFor(async () => (await storedCount()) === 15, { timeoutMs: 30_000, what: '15 stored messages' });
    // Wait for the events to be published (published_offset is what makes a message prunable).
    await waitFor(
      async () => {
        const rows: { published_offset: string; next_offset: string }[] = await dataSource.query(
          `SELECT published_offset, next_offset FROM seqcast_partition_positions WHERE topic = $1 AND partition = 1`,
          [topics.messagesTopic],
        );
        return rows[0] && rows[0].published_offset === rows[0].next_offset;
      },
      { what: 'partition 1 fully published' },
    );
    const seqsOf = (roomId: string) => sent.filter((s) => s.roomId === roomId).map((s) => s.offset);
    // Two hours old: every message of the first room, the first three of the second.
    await dataSource.query(
      `UPDATE seqcast_messages SET sequenced_at = now() - interval '2 hours'
        WHERE (room_id = $1) OR (room_id = $2 AND seq = ANY($3::bigint[]))`,
      [aged, partlyAged, seqsOf(partlyAged).slice(0, 3)],
    );

    await waitFor(async () => (await storedCount()) === 15 - 4 - 3, { timeoutMs: 10_000, what: '7 pruned messages' });
    const history = new MessageHistoryRepository(dataSource);
    const left = async (roomId: string) => (await history.findAfter(roomId, -1, 10)).map((m) => [m.seq, m.prevSeq]);
    const a = seqsOf(aged);
    const b = seqsOf(partlyAged);
    expect(await left(aged)).toEqual([[a[4], a[3]]]);
    expect(await history.headSeq(aged)).toBe(a[4]);
    expect(await left(partlyAged)).toEqual([
      [b[3], b[2]],
      [b[4], b[3]],
    ]);
    expect(await left(fresh)).toHaveLength(5);
    expect((sample(await scrape(service), 'seqcast_worker_pruned_messages_total') ?? 0) - before).toBe(7);
  }, 60_000);
});
