/**
 * kafkajs 2.2.4 predates Kafka 4.x, which removed old protocol versions (KIP-896). This proves the
 * client still speaks to the broker for everything Seqcast relies on: idempotent produce with
 * acks=all, consumer-group join with eachBatch and manual commits, and reading committed offsets.
 */
import { testKafkaBrokers, waitFor } from '@seqcast/testing';
import { type EachBatchPayload, Kafka, logLevel } from 'kafkajs';
import { randomBytes } from 'node:crypto';

describe('kafkajs 2.2.4 against the Kafka 4.x broker', () => {
  const topic = `t.compat.${randomBytes(4).toString('hex')}`;
  const groupId = `g.compat.${randomBytes(4).toString('hex')}`;
  const kafka = new Kafka({ clientId: 'compat', brokers: testKafkaBrokers(), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();

  beforeAll(async () => {
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
  });

  afterAll(async () => {
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.deleteTopics({ topics: [topic] });
    await admin.disconnect();
  });

  it('produces idempotently, joins a group, consumes in batches and commits manually', async () => {
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const sent = await producer.send({
      topic,
      acks: -1,
      messages: [0, 1, 2, 3].map((i) => ({ partition: i % 2, key: `k${i}`, value: `v${i}` })),
    });
    await producer.disconnect();
    expect(sent.map((r) => r.errorCode)).toEqual([0, 0]);

    const consumer = kafka.consumer({ groupId });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const seen: string[] = [];
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat }: EachBatchPayload) => {
        for (const m of batch.messages) {
          seen.push(`${batch.partition}:${m.offset}:${m.value?.toString()}`);
          resolveOffset(m.offset);
        }
        await heartbeat();
        await consumer.commitOffsets([
          { topic, partition: batch.partition, offset: String(Number(batch.lastOffset()) + 1) },
        ]);
      },
    });
    await waitFor(() => seen.length === 4, { what: 'all four records consumed' });
    await consumer.disconnect();

    expect(seen.sort()).toEqual(['0:0:v0', '0:1:v2', '1:0:v1', '1:1:v3']);
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    expect(committed.partitions.sort((a, b) => a.partition - b.partition)).toEqual([
      expect.objectContaining({ partition: 0, offset: '2' }),
      expect.objectContaining({ partition: 1, offset: '2' }),
    ]);
  });
});
