/**
 * A real broker of this test's own (never the shared one on 9092) stopped and started again under a
 * ResilientConsumer and a RoomProducer: the consumer reports not consuming while the broker is
 * away and consumes again by itself once it is back (as a new member, once the previous one's
 * 6 s session expired), and the producer answers sends with KafkaUnavailableError meanwhile
 * instead of holding them, then works again without being recreated.
 */
import { createDedicatedKafka, type DedicatedKafka, waitFor } from '@seqcast/testing';
import type { Kafka } from 'kafkajs';
import { createKafka } from './kafka-client';
import { KafkaUnavailableError } from './kafka-errors';
import { uniqueName } from '../testing';
import { ResilientConsumer } from './resilient-consumer';
import { RoomProducer } from './room-producer';
import { ensureTopics } from './topics';

const TOPIC = 'outage.events';

describe('broker outage (dedicated real broker)', () => {
  let broker: DedicatedKafka;
  let kafka: Kafka;
  let producer: RoomProducer;
  let consumer: ResilientConsumer;
  const received: string[] = [];
  const warnings: string[] = [];

  beforeAll(async () => {
    broker = await createDedicatedKafka();
    await broker.start();
    kafka = createKafka({ brokers: [broker.broker], clientId: 'kafka-lib-int-outage' });
    await ensureTopics(kafka, [{ name: TOPIC, partitions: 2 }]);
    producer = new RoomProducer(kafka, { partitions: 2, sendTimeoutMs: 5_000 });
    await producer.connect();
    consumer = new ResilientConsumer(kafka, {
      name: 'test consumer',
      consumer: { groupId: uniqueName('g'), maxWaitTimeInMs: 500 },
      subscribe: { topics: [TOPIC], fromBeginning: true },
      run: {
        eachMessage: async ({ message }) => {
          received.push(String(message.value));
        },
      },
      logger: { log: () => undefined, warn: (message) => warnings.push(message) },
    });
    consumer.start();
  }, 240_000);

  afterAll(async () => {
    await consumer?.stop();
    await producer?.disconnect();
    await broker?.destroy();
  }, 60_000);

  it('consumes, stops consuming while the broker is down, and consumes again by itself once it is back', async () => {
    await waitFor(() => consumer.status().consuming, { timeoutMs: 30_000, what: 'the consumer to consume' });
    await producer.send(TOPIC, [{ roomId: 'a', value: 'before' }]);
    await waitFor(() => received.includes('before'), { timeoutMs: 15_000, what: 'the message sent before the outage' });

    await broker.stop();
    await waitFor(() => !consumer.status().consuming, { timeoutMs: 60_000, what: 'the consumer to report not consuming' });
    expect(consumer.status().reason).toMatch(/test consumer: /);
    // Fails with the mapped error (503 at the ingest API), not a hang and not a crash.
    await expect(producer.send(TOPIC, [{ roomId: 'a', value: 'lost' }])).rejects.toBeInstanceOf(KafkaUnavailableError);

    await broker.start();
    await waitFor(
      async () => {
        await producer.send(TOPIC, [{ roomId: 'b', value: 'after' }]);
        return true;
      },
      { timeoutMs: 60_000, intervalMs: 500, what: 'the producer to send again' },
    );
    await waitFor(() => consumer.status().consuming && received.includes('after'), {
      timeoutMs: 60_000,
      what: 'the consumer to consume again and receive the message sent after the outage',
    });
  }, 360_000);
});
