import { ConfigResourceTypes, Kafka, type Admin } from 'kafkajs';
import { createKafka } from './kafka-client';
import { KafkaConfigurationError } from './kafka-configuration-error';
import { KafkaUnavailableError, TopicMismatchError } from './kafka-errors';
import { RoomProducer } from './room-producer';
import { testKafkaClient } from '@seqcast/testing';
import { brokers, uniqueName } from '../testing';
import { ensureTopics, fetchCommittedOffsets, fetchLogEndOffsets, probeKafka } from './topics';

describe('topics (real broker)', () => {
  const kafka = createKafka({ brokers: brokers(), clientId: 'kafka-lib-int-topics', client: testKafkaClient() });
  const created: string[] = [];
  let admin: Admin;

  const fresh = () => {
    const name = uniqueName();
    created.push(name);
    return name;
  };
  const partitionCount = async (topic: string) => {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    return topics[0].partitions.length;
  };

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
  });

  afterAll(async () => {
    const existing = new Set(await admin.listTopics());
    const ours = created.filter((topic) => existing.has(topic));
    if (ours.length > 0) await admin.deleteTopics({ topics: ours });
    await admin.disconnect();
  });

  it('creates missing topics with leaders for every partition, and is idempotent', async () => {
    const messages = fresh();
    const events = fresh();
    await ensureTopics(kafka, [
      { name: messages, partitions: 6 },
      { name: events, partitions: 6 },
    ]);
    expect(await partitionCount(messages)).toBe(6);
    expect(await partitionCount(events)).toBe(6);
    const { topics } = await admin.fetchTopicMetadata({ topics: [messages] });
    expect(topics[0].partitions.every(({ leader }) => leader >= 0)).toBe(true);

    await ensureTopics(kafka, [
      { name: messages, partitions: 6 },
      { name: events, partitions: 6 },
    ]);
    expect(await partitionCount(messages)).toBe(6);
  });

  it('creates only the missing topic when the other exists', async () => {
    const existing = fresh();
    const missing = fresh();
    await ensureTopics(kafka, [{ name: existing, partitions: 2 }]);
    await ensureTopics(kafka, [
      { name: existing, partitions: 2 },
      { name: missing, partitions: 2 },
    ]);
    expect(await partitionCount(missing)).toBe(2);
  });

  it('tolerates services racing to create the same topics', async () => {
    const topic = fresh();
    const spec = [{ name: topic, partitions: 4 }];
    // Separate clients, like separate services starting at once.
    const racers = [1, 2, 3, 4].map((i) => createKafka({ brokers: brokers(), clientId: `racer-${i}` }));
    await Promise.all(racers.map((racer) => ensureTopics(racer, spec)));
    expect(await partitionCount(topic)).toBe(4);
  });

  it('refuses a topic whose partition count differs', async () => {
    const topic = fresh();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 3, replicationFactor: 1 }] });
    const attempt = ensureTopics(kafka, [{ name: topic, partitions: 12 }]);
    await expect(attempt).rejects.toBeInstanceOf(TopicMismatchError);
    await expect(attempt).rejects.toThrow(`topic "${topic}" exists with 3 partitions but SEQCAST_PARTITIONS=12`);
    expect(await partitionCount(topic)).toBe(3);
  });

  const minInsyncReplicas = async (topic: string) => {
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['min.insync.replicas'] }],
    });
    return resources[0].configEntries.find(({ configName }) => configName === 'min.insync.replicas')?.configValue;
  };

  it('creates topics with the configured min.insync.replicas and accepts them on the next start', async () => {
    const topic = fresh();
    const spec = [{ name: topic, partitions: 2, replicationFactor: 1, minInsyncReplicas: 1 }];
    await ensureTopics(kafka, spec);
    expect(await minInsyncReplicas(topic)).toBe('1');
    await expect(ensureTopics(kafka, spec)).resolves.toBeUndefined();
  });

  it('refuses an existing topic with a lower min.insync.replicas than configured, naming the variable', async () => {
    const topic = fresh();
    await ensureTopics(kafka, [{ name: topic, partitions: 1, minInsyncReplicas: 1 }]);
    const attempt = ensureTopics(kafka, [{ name: topic, partitions: 1, minInsyncReplicas: 2 }]);
    await expect(attempt).rejects.toBeInstanceOf(KafkaConfigurationError);
    await expect(attempt).rejects.toThrow(
      `topic "${topic}" has min.insync.replicas=1 but SEQCAST_MIN_INSYNC_REPLICAS=2`,
    );
    // Never changed in place: that is the operator's call.
    expect(await minInsyncReplicas(topic)).toBe('1');
  });

  it('accepts an existing topic more durable than configured, leaving it as it is', async () => {
    const topic = fresh();
    await ensureTopics(kafka, [{ name: topic, partitions: 1, minInsyncReplicas: 2 }]);
    await expect(ensureTopics(kafka, [{ name: topic, partitions: 1, minInsyncReplicas: 1 }])).resolves.toBeUndefined();
    expect(await minInsyncReplicas(topic)).toBe('2');
  });

  it('refuses an existing topic with fewer replicas than SEQCAST_REPLICATION_FACTOR', async () => {
    const topic = fresh();
    await ensureTopics(kafka, [{ name: topic, partitions: 1, replicationFactor: 1 }]);
    const attempt = ensureTopics(kafka, [{ name: topic, partitions: 1, replicationFactor: 3 }]);
    await expect(attempt).rejects.toBeInstanceOf(KafkaConfigurationError);
    await expect(attempt).rejects.toThrow(
      `topic "${topic}" has 1 replica(s) per partition but SEQCAST_REPLICATION_FACTOR=3`,
    );
  });

  it('names SEQCAST_REPLICATION_FACTOR when the cluster has fewer brokers than it asks for', async () => {
    const topic = fresh();
    const attempt = ensureTopics(kafka, [{ name: topic, partitions: 1, replicationFactor: 3 }]);
    await expect(attempt).rejects.toBeInstanceOf(KafkaConfigurationError);
    await expect(attempt).rejects.toThrow(/lower SEQCAST_REPLICATION_FACTOR/);
  });

  it('fetchLogEndOffsets returns the high watermark of every partition', async () => {
    const topic = fresh();
    await ensureTopics(kafka, [{ name: topic, partitions: 3 }]);
    expect(await fetchLogEndOffsets(admin, topic)).toEqual(
      new Map([
        [0, 0],
        [1, 0],
        [2, 0],
      ]),
    );

    const producer = new RoomProducer(kafka, { partitions: 3 });
    await producer.connect();
    try {
      await producer.sendToPartition(topic, 0, [{ roomId: 'a', value: '1' }]);
      await producer.sendToPartition(topic, 2, [
        { roomId: 'b', value: '1' },
        { roomId: 'b', value: '2' },
        { roomId: 'b', value: '3' },
      ]);
    } finally {
      await producer.disconnect();
    }
    expect(await fetchLogEndOffsets(admin, topic)).toEqual(
      new Map([
        [0, 1],
        [1, 0],
        [2, 3],
      ]),
    );
  });

  it('fetchCommittedOffsets returns what a group committed, leaving out partitions it never did', async () => {
    const topic = fresh();
    const groupId = uniqueName('g');
    await ensureTopics(kafka, [{ name: topic, partitions: 3 }]);
    expect(await fetchCommittedOffsets(admin, groupId, topic)).toEqual(new Map());
    await admin.setOffsets({ groupId, topic, partitions: [{ partition: 1, offset: '0' }] });
    try {
      expect(await fetchCommittedOffsets(admin, groupId, topic)).toEqual(new Map([[1, 0]]));
    } finally {
      await admin.deleteGroups([groupId]).catch(() => undefined);
    }
  });

  it('probeKafka passes when the topics exist and names a missing one', async () => {
    const topic = fresh();
    await ensureTopics(kafka, [{ name: topic, partitions: 1 }]);
    await expect(probeKafka(admin, [topic])).resolves.toBeUndefined();
    const missing = uniqueName('missing');
    await expect(probeKafka(admin, [topic, missing])).rejects.toThrow(`missing topic(s): ${missing}`);
    // Probing must not create it (brokers with auto-create enabled would otherwise do so).
    expect(await admin.listTopics()).not.toContain(missing);
  });

  it('probeKafka fails within its timeout when the broker is unreachable', async () => {
    const dead = new Kafka({ brokers: ['127.0.0.1:1'], clientId: 'dead', logCreator: () => () => undefined });
    const deadAdmin = dead.admin();
    const started = Date.now();
    await expect(probeKafka(deadAdmin, ['x'], { timeoutMs: 2000 })).rejects.toBeInstanceOf(KafkaUnavailableError);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('ensureTopics reports an unreachable broker as KafkaUnavailableError', async () => {
    const dead = createKafka({ brokers: ['127.0.0.1:1'], clientId: 'dead' });
    await expect(ensureTopics(dead, [{ name: 'never', partitions: 1 }])).rejects.toBeInstanceOf(KafkaUnavailableError);
  });
});
