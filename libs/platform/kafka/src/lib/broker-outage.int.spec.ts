/**
 * A real broker of this test's own (never the shared one on 9092) stopped and started again under a
 * ResilientConsumer and a RoomProducer: the consumer reports not consuming while the broker is
 * away and consumes again by itself once it is back, as a new member and the group's only one
 * (the member it was before the outage is removed, not left to expire), and the producer answers
 * sends with KafkaUnavailableError meanwhile instead of holding them, then works again without
 * being recreated. Then the same with kill -9 of the broker, after which the restarted coordinator
 * certainly still holds the old member: the consumer removes it explicitly.
 */
import { createDedicatedKafka, type DedicatedKafka, testKafkaClient, waitFor } from '@seqcast/testing';
import type { Kafka } from 'kafkajs';
import { createKafka } from './kafka-client';
import { KafkaUnavailableError } from './kafka-errors';
import { uniqueName } from '../testing';
import { createResilientConsumer, type GroupConsumer } from './group-consumer';
import { RoomProducer } from './room-producer';
import { ensureTopics } from './topics';

const TOPIC = 'outage.events';

/** The group's members as the coordinator reports them (a fresh admin: the broker may have restarted). */
async function groupMembers(kafka: Kafka, groupId: string): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { groups } = await admin.describeGroups([groupId]);
    return groups.flatMap((group) => group.members.map((member) => member.memberId));
  } finally {
    await admin.disconnect();
  }
}

describe('broker outage (dedicated real broker)', () => {
  let broker: DedicatedKafka;
  let kafka: Kafka;
  let producer: RoomProducer;
  let consumer: GroupConsumer;
  const received: string[] = [];
  const logs: string[] = [];
  const groupId = uniqueName('g');

  beforeAll(async () => {
    broker = await createDedicatedKafka();
    await broker.start();
    kafka = createKafka({ brokers: [broker.broker], clientId: 'kafka-lib-int-outage', client: testKafkaClient() });
    await ensureTopics(kafka, [{ name: TOPIC, partitions: 2 }]);
    producer = new RoomProducer(kafka, { partitions: 2, sendTimeoutMs: 5_000 });
    await producer.connect();
    consumer = createResilientConsumer(kafka, {
      name: 'test consumer',
      consumer: { groupId, maxWaitTimeInMs: 500 },
      subscribe: { topics: [TOPIC], fromBeginning: true },
      run: {
        eachMessage: async ({ message }) => {
          received.push(String(message.value));
        },
      },
      logger: { log: (message) => logs.push(message), warn: (message) => logs.push(message) },
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
    await waitFor(() => !consumer.status().consuming, {
      timeoutMs: 60_000,
      what: 'the consumer to report not consuming',
    });
    expect(consumer.status().reason).toMatch(/test consumer: /);
    // Fails with the mapped error (503 at the ingest API), not a hang and not a crash.
    await expect(producer.send(TOPIC, [{ roomId: 'a', value: 'lost' }])).rejects.toBeInstanceOf(KafkaUnavailableError);

    await broker.start();
    const brokerReadyAt = Date.now();
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
    console.log(`consuming again ${Date.now() - brokerReadyAt} ms after the stopped broker was ready`);
    expect(await groupMembers(kafka, groupId)).toHaveLength(1);
  }, 360_000);

  it('removes its own member from before a kill -9 of the broker instead of waiting for its session to expire', async () => {
    await waitFor(() => consumer.status().consuming, { timeoutMs: 60_000, what: 'the consumer to consume' });
    const [before, ...others] = await groupMembers(kafka, groupId);
    expect(others).toEqual([]);

    await broker.kill();
    // Sequenced on behaviour, not time: the consumer has given its membership up (kafkajs crashed
    // and restarts it as a new member) and started removing the old one while the broker is down.
    await waitFor(
      () => logs.some((line) => line.includes(`lost its membership in group ${groupId} (member ${before})`)),
      {
        timeoutMs: 60_000,
        what: 'the consumer to give up its membership and start removing it',
      },
    );
    expect(consumer.status().consuming).toBe(false);

    await broker.start();
    const brokerReadyAt = Date.now();
    // Removed by our LeaveGroup, found gone by it (a restarted coordinator does not always still
    // hold the member, docs/reliability.md), or overtaken by our own rejoin when the coordinator had
    // already dropped it while our attempt was still unanswered (seen once in a clean-clone run).
    // Never given up. How long the rejoin waits is measured by the chaos suite, not asserted here.
    const outcomeOf = (line: string) => line.includes(`stale member ${before} of group ${groupId}`);
    await waitFor(() => logs.some(outcomeOf), {
      timeoutMs: 60_000,
      what: `the removal of the stale member ${before} to end`,
    });
    const outcome = logs.find(outcomeOf) ?? '';
    console.log(outcome);
    expect(outcome).toMatch(
      /: (removed stale member .* after its consumer restarted|stale member .* had already left the group|rejoined as member .* before stale member .* was removed)/,
    );
    await waitFor(
      async () => {
        await producer.send(TOPIC, [{ roomId: 'c', value: 'after kill' }]);
        return true;
      },
      { timeoutMs: 60_000, intervalMs: 500, what: 'the producer to send again' },
    );
    await waitFor(() => consumer.status().consuming && received.includes('after kill'), {
      timeoutMs: 60_000,
      what: 'the consumer to consume again after the kill',
    });
    console.log(`consuming again ${Date.now() - brokerReadyAt} ms after the killed broker was ready`);
    const after = await groupMembers(kafka, groupId);
    expect(after).toHaveLength(1);
    expect(after).not.toContain(before);
  }, 360_000);
});
