import { partitionForRoom } from '@seqcast/room-partitioner';
import { testKafkaClient, waitFor } from '@seqcast/testing';
import type { Admin } from 'kafkajs';
import { createKafka } from './kafka-client';
import { KafkaUnavailableError } from './kafka-errors';
import { consumeAll, brokers, uniqueName } from '../testing';
import { RoomProducer, type ProducedRecord, type RoomRecord } from './room-producer';
import { ensureTopics, fetchLogEndOffsets } from './topics';

const PARTITIONS = 6;
const ROOMS = ['team-42:general', 'lobby', 'room-1', 'A.b_c-d:e', 'x', 'support:queue-7', 'team-7:random', 'z'];

describe('RoomProducer (real broker)', () => {
  const kafka = createKafka({ brokers: brokers(), clientId: 'kafka-lib-int-producer', client: testKafkaClient() });
  const topic = uniqueName();
  let admin: Admin;
  let producer: RoomProducer;

  beforeAll(async () => {
    await ensureTopics(kafka, [{ name: topic, partitions: PARTITIONS }]);
    admin = kafka.admin();
    await admin.connect();
    producer = new RoomProducer(kafka, { partitions: PARTITIONS });
    await producer.connect();
  });

  afterAll(async () => {
    await producer.disconnect();
    await admin.deleteTopics({ topics: [topic] });
    await admin.disconnect();
  });

  it('returns the exact offset of every record, and keeps each room on its partition', async () => {
    // The rooms map to several partitions (checked so the test cannot pass on a single one).
    expect(new Set(ROOMS.map((room) => partitionForRoom(room, PARTITIONS))).size).toBeGreaterThan(2);

    const batch: RoomRecord[] = Array.from({ length: 40 }, (_, i) => ({
      roomId: ROOMS[i % ROOMS.length],
      value: JSON.stringify({ batch: 'one', i }),
    }));
    const sent: Array<{ record: RoomRecord; result: ProducedRecord }> = [];
    const results = await producer.send(topic, batch);
    expect(results.map(({ roomId }) => roomId)).toEqual(batch.map(({ roomId }) => roomId));
    results.forEach((result, i) => sent.push({ record: batch[i], result }));

    // Concurrent callers (coalesced into shared requests) each get their own exact offsets.
    const concurrent = Array.from({ length: 25 }, (_, call) =>
      Array.from({ length: 3 }, (_, i) => ({
        roomId: ROOMS[(call + i) % ROOMS.length],
        value: Buffer.from(JSON.stringify({ call, i })),
      })),
    );
    const concurrentResults = await Promise.all(concurrent.map((records) => producer.send(topic, records)));
    concurrentResults.forEach((results, call) =>
      results.forEach((result, i) => sent.push({ record: concurrent[call][i], result })),
    );

    // Explicit partition: a room deliberately placed off its hash partition stays where it was put.
    const offPartition = (partitionForRoom('lobby', PARTITIONS) + 1) % PARTITIONS;
    const republished = [
      { roomId: 'lobby', value: 'r1' },
      { roomId: 'lobby', value: 'r2' },
    ];
    const republishedResults = await producer.sendToPartition(topic, offPartition, republished);
    republishedResults.forEach((result, i) => sent.push({ record: republished[i], result }));
    expect(republishedResults.map(({ partition }) => partition)).toEqual([offPartition, offPartition]);

    for (const { record, result } of sent.slice(0, sent.length - republished.length)) {
      expect(result.partition).toBe(partitionForRoom(record.roomId, PARTITIONS));
    }

    const consumed = await consumeAll(kafka, topic, sent.length);
    expect(consumed).toHaveLength(sent.length);
    const byPosition = new Map(consumed.map((record) => [`${record.partition}:${record.offset}`, record]));
    for (const { record, result } of sent) {
      expect(byPosition.get(`${result.partition}:${result.offset}`)).toEqual({
        partition: result.partition,
        offset: result.offset,
        key: record.roomId,
        value: record.value.toString(),
      });
    }
    // Every room's records sit on exactly one partition (apart from the deliberate republish).
    for (const room of ROOMS) {
      const partitions = new Set(
        consumed.filter(({ key, value }) => key === room && !value?.startsWith('r')).map(({ partition }) => partition),
      );
      expect([...partitions]).toEqual([partitionForRoom(room, PARTITIONS)]);
    }
  });

  it('returns [] for an empty send without touching Kafka', async () => {
    await expect(producer.send(topic, [])).resolves.toEqual([]);
  });

  it('throws KafkaUnavailableError, with its cause, when the broker refuses connections', async () => {
    const dead = new RoomProducer(
      createKafka({ brokers: ['127.0.0.1:1'], clientId: 'dead', client: testKafkaClient() }),
      {
        partitions: PARTITIONS,
      },
    );
    let started = Date.now();
    const connectError = await dead.connect().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(connectError).toBeInstanceOf(KafkaUnavailableError);
    expect((connectError as Error).message).toContain('ECONNREFUSED');
    expect((connectError as Error).cause).toBeInstanceOf(Error);
    expect(Date.now() - started).toBeLessThan(11_000);

    // Still usable after a failed connect: each send tries again and fails the same clear way.
    started = Date.now();
    const sendError = await dead.send(topic, [{ roomId: 'lobby', value: 'v' }]).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(sendError).toBeInstanceOf(KafkaUnavailableError);
    expect(Date.now() - started).toBeLessThan(11_000);
    await dead.disconnect();
  });

  it('never waits longer than sendTimeoutMs', async () => {
    const dead = new RoomProducer(
      createKafka({ brokers: ['127.0.0.1:1'], clientId: 'dead', client: testKafkaClient() }),
      {
        partitions: PARTITIONS,
        sendTimeoutMs: 1000,
      },
    );
    await dead.connect().catch(() => undefined);
    const started = Date.now();
    await expect(dead.send(topic, [{ roomId: 'lobby', value: 'v' }])).rejects.toThrow(
      new KafkaUnavailableError('send: Kafka did not answer within 1000 ms'),
    );
    expect(Date.now() - started).toBeLessThan(2500);
    await dead.disconnect();
  });

  it('recovers after a failed send and keeps offsets exact', async () => {
    const missing = uniqueName('missing');
    await expect(producer.send(missing, [{ roomId: 'lobby', value: 'lost' }])).rejects.toBeInstanceOf(
      KafkaUnavailableError,
    );
    expect(await admin.listTopics()).not.toContain(missing);

    // The failure opened the breaker (sends fail fast while a probe reconnects) and sends go through
    // again once the probe succeeded. Sends refused meanwhile were never queued, so the last record
    // in the log is the one that succeeded.
    const [result] = await waitFor(
      () => producer.send(topic, [{ roomId: 'lobby', value: 'after-failure' }]).catch(() => false as const),
      { timeoutMs: 15_000, what: 'a send after the failure to succeed' },
    );
    const endOffsets = await fetchLogEndOffsets(admin, topic);
    expect(result.offset).toBe((endOffsets.get(result.partition) ?? 0) - 1);
  });

  it('refuses sends after disconnect()', async () => {
    const short = new RoomProducer(kafka, { partitions: PARTITIONS });
    await short.connect();
    const inFlight = short.send(topic, [{ roomId: 'lobby', value: 'last' }]);
    await short.disconnect();
    // A send queued before disconnect still completes.
    await expect(inFlight).resolves.toHaveLength(1);
    await expect(short.send(topic, [{ roomId: 'lobby', value: 'late' }])).rejects.toThrow('after disconnect()');
  });
});
