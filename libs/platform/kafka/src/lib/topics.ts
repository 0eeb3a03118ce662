import { type Admin, ConfigResourceTypes, type Kafka } from 'kafkajs';
import { explainKafkaConfigurationError, KafkaConfigurationError } from './kafka-configuration-error';
import { KafkaUnavailableError, TopicMismatchError, toKafkaUnavailable } from './kafka-errors';

export interface TopicSpec {
  name: string;
  partitions: number;
  /** Defaults to 1 (single-broker dev clusters); production charts set 3. */
  replicationFactor?: number;
  /**
   * Set on topics this creates; unset: the broker's default. With the producers' acks=all a write
   * is acknowledged once this many replicas have it. Production charts set 2 (of 3).
   */
  minInsyncReplicas?: number;
}

const LEADER_WAIT_MS = 30_000;
const LEADER_POLL_MS = 200;
const PROBE_TIMEOUT_MS = 5_000;

/**
 * Creates missing topics and checks existing ones. Every service calls this at startup, so two
 * services racing to create the same topic is normal: losing the race is success. Partition counts
 * are compared, never changed, because partitions decide which rooms share an ordered log.
 * Durability is compared too (see checkDurability): a topic with fewer replicas or a lower
 * min.insync.replicas than configured fails start-up with a KafkaConfigurationError; settings,
 * credentials or certificates the broker refuses do as well.
 */
export async function ensureTopics(kafka: Kafka, topics: TopicSpec[]): Promise<void> {
  if (topics.length === 0) return;
  const admin = kafka.admin();
  try {
    await admin.connect();
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((topic) => !existing.has(topic.name));
    if (missing.length > 0) {
      // Resolves false when another service created them first (TOPIC_ALREADY_EXISTS); either way
      // the checks below decide. Not kafkajs' waitForLeaders: it gives up on the first "This server
      // does not host this topic-partition" a broker answers while another service's creation is
      // still propagating, which made a service started alongside the creator exit; our own poll
      // below retries that until the deadline.
      await admin.createTopics({
        waitForLeaders: false,
        topics: missing.map(({ name, partitions, replicationFactor, minInsyncReplicas }) => ({
          topic: name,
          numPartitions: partitions,
          replicationFactor: replicationFactor ?? 1,
          ...(minInsyncReplicas === undefined
            ? {}
            : { configEntries: [{ name: 'min.insync.replicas', value: String(minInsyncReplicas) }] }),
        })),
      });
    }
    await waitForLeaders(admin, topics);
    await checkDurability(admin, topics);
  } catch (error) {
    throw explainKafkaConfigurationError(error) ?? toKafkaUnavailable(error, 'ensuring topics');
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** Polls until every partition has a leader that answers; a partition-count mismatch fails at once. */
async function waitForLeaders(admin: Admin, topics: TopicSpec[]): Promise<void> {
  const deadline = Date.now() + LEADER_WAIT_MS;
  let lastProblem = 'no metadata yet';
  for (;;) {
    try {
      const { topics: metadata } = await admin.fetchTopicMetadata({ topics: topics.map(({ name }) => name) });
      const byName = new Map(metadata.map((topic) => [topic.name, topic.partitions]));
      const leaderless: string[] = [];
      for (const spec of topics) {
        const partitions = byName.get(spec.name) ?? [];
        if (partitions.length > 0 && partitions.length !== spec.partitions) {
          throw new TopicMismatchError(spec.name, partitions.length, spec.partitions);
        }
        if (partitions.length === 0 || partitions.some(({ leader }) => leader < 0)) leaderless.push(spec.name);
      }
      if (leaderless.length === 0) {
        // Metadata names a leader before that broker has taken the partition over (KRaft brokers
        // apply the controller's records asynchronously): a request right now could still get
        // NOT_LEADER_FOR_PARTITION. A ListOffsets answered by every leader proves they serve.
        for (const { name } of topics) await admin.fetchTopicOffsets(name);
        return;
      }
      lastProblem = `no leader yet for ${leaderless.join(', ')}`;
    } catch (error) {
      if (error instanceof TopicMismatchError) throw error;
      // Right after creation the broker may still answer LEADER_NOT_AVAILABLE / UNKNOWN_TOPIC.
      lastProblem = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() >= deadline) {
      throw new KafkaUnavailableError(`topics not ready after ${LEADER_WAIT_MS} ms: ${lastProblem}`);
    }
    await new Promise((resolve) => setTimeout(resolve, LEADER_POLL_MS));
  }
}

/**
 * An existing topic less durable than configured is a start-up error, not a warning: the operator
 * asked (SEQCAST_REPLICATION_FACTOR / SEQCAST_MIN_INSYNC_REPLICAS, the chart's 3/2) for writes that
 * survive a broker loss, and acknowledging them on fewer copies would break that promise silently,
 * in the one situation (a failed broker) where it matters. Nothing is changed in place: raising a
 * replication factor is a partition reassignment, an operator's decision. A topic more durable than
 * configured is accepted as it is: someone raised it on purpose, and Seqcast never lowers it.
 */
async function checkDurability(admin: Admin, topics: TopicSpec[]): Promise<void> {
  const problems: string[] = [];
  const { topics: metadata } = await admin.fetchTopicMetadata({ topics: topics.map(({ name }) => name) });
  const replicasByTopic = new Map(
    metadata.map(({ name, partitions }) => [name, Math.min(...partitions.map(({ replicas }) => replicas.length))]),
  );
  for (const { name, replicationFactor = 1 } of topics) {
    const replicas = replicasByTopic.get(name);
    if (replicas !== undefined && replicas < replicationFactor) {
      problems.push(
        `topic "${name}" has ${replicas} replica(s) per partition but SEQCAST_REPLICATION_FACTOR=${replicationFactor}: ` +
          `raise the topic's replication factor (kafka-reassign-partitions.sh) or set SEQCAST_REPLICATION_FACTOR=${replicas} to accept it`,
      );
    }
  }
  const checked = topics.filter(({ minInsyncReplicas }) => minInsyncReplicas !== undefined);
  if (checked.length > 0) {
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: checked.map(({ name }) => ({
        type: ConfigResourceTypes.TOPIC,
        name,
        configNames: ['min.insync.replicas'],
      })),
    });
    for (const { name, minInsyncReplicas } of checked) {
      const entry = resources
        .find(({ resourceName }) => resourceName === name)
        ?.configEntries.find(({ configName }) => configName === 'min.insync.replicas');
      const actual = Number(entry?.configValue);
      if (Number.isInteger(actual) && actual < (minInsyncReplicas as number)) {
        problems.push(
          `topic "${name}" has min.insync.replicas=${actual} but SEQCAST_MIN_INSYNC_REPLICAS=${minInsyncReplicas}: raise it ` +
            `(kafka-configs.sh --alter --entity-type topics --entity-name ${name} --add-config ` +
            `min.insync.replicas=${minInsyncReplicas}) or set SEQCAST_MIN_INSYNC_REPLICAS=${actual} to accept it`,
        );
      }
    }
  }
  if (problems.length > 0)
    throw new KafkaConfigurationError(`topics are less durable than configured: ${problems.join('; ')}`);
}

/** High watermark (next offset to be written) per partition. */
export async function fetchLogEndOffsets(admin: Admin, topic: string): Promise<Map<number, number>> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return new Map(offsets.map(({ partition, high }) => [partition, Number(high)]));
}

/**
 * The group's committed offset (the next offset it would read) per partition of `topic`; partitions
 * the group never committed are left out.
 */
export async function fetchCommittedOffsets(
  admin: Admin,
  groupId: string,
  topic: string,
): Promise<Map<number, number>> {
  const groups = await admin.fetchOffsets({ groupId, topics: [topic] });
  const partitions = groups.find((entry) => entry.topic === topic)?.partitions ?? [];
  return new Map(
    partitions.filter(({ offset }) => Number(offset) >= 0).map(({ partition, offset }) => [partition, Number(offset)]),
  );
}

/**
 * Readiness: throws if the broker cannot be reached within a few seconds or a topic is missing.
 * Lists topics rather than fetching their metadata so a missing topic is never auto-created.
 */
export async function probeKafka(admin: Admin, topics: string[], options: { timeoutMs?: number } = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? PROBE_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new KafkaUnavailableError(`Kafka did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    const listing = admin.listTopics();
    listing.catch(() => undefined); // may settle after the timeout won
    const existing = new Set(await Promise.race([listing, timeout]));
    const missing = topics.filter((topic) => !existing.has(topic));
    if (missing.length > 0) throw new Error(`missing topic(s): ${missing.join(', ')}`);
  } catch (error) {
    throw toKafkaUnavailable(error, 'probing Kafka');
  } finally {
    clearTimeout(timer);
  }
}
