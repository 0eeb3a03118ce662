/**
 * TLS (with a client certificate) and SASL against a real broker: settings come from env variables
 * through @seqcast/config exactly as a service resolves them, then createKafka, ensureTopics, the
 * RoomProducer and a consumer group run over the SASL_SSL listener.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kafkaEnv, parseEnv, resolveKafkaSecurity } from '@seqcast/config';
import { createKafka, type KafkaSettings } from './kafka-client';
import { KafkaConfigurationError } from './kafka-configuration-error';
import { consumeAll, uniqueName } from '../testing';
import { RoomProducer } from './room-producer';
import { type StaleMemberOutcome, StaleMemberRemover } from './stale-member-remover';
import { startSecuredKafka, type SecuredKafka, waitFor } from '@seqcast/testing';
import { ensureTopics } from './topics';

const USER = 'seqcast-int';
const PASSWORD = 'right-secret';

describe('Kafka over SASL_SSL with a client certificate (private broker)', () => {
  let secured: SecuredKafka;
  let secretsDir: string;
  let passwordFile: string;

  beforeAll(async () => {
    secretsDir = await mkdtemp(join(tmpdir(), 'seqcast-kafka-secrets-'));
    passwordFile = join(secretsDir, 'password');
    // As a mounted Kubernetes secret usually is: the value and a trailing newline.
    await writeFile(passwordFile, `${PASSWORD}\n`);
    secured = await startSecuredKafka({ [USER]: PASSWORD });
  }, 180_000);

  afterAll(async () => {
    await secured?.destroy();
    await rm(secretsDir, { recursive: true, force: true });
  }, 60_000);

  /** The env a production deployment of a service would get (chart: tls + sasl secrets mounted). */
  function productionEnv(overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
    return {
      KAFKA_BROKERS: secured.broker,
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA_FILE: secured.caFile,
      KAFKA_SSL_CERT_FILE: secured.clientCertFile,
      KAFKA_SSL_KEY_FILE: secured.clientKeyFile,
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: USER,
      KAFKA_SASL_PASSWORD_FILE: passwordFile,
      ...overrides,
    };
  }

  function settingsFrom(env: Record<string, string | undefined>): KafkaSettings {
    const raw = parseEnv(kafkaEnv, env);
    return { brokers: raw.KAFKA_BROKERS, clientId: 'kafka-security-int', ...resolveKafkaSecurity('production', raw) };
  }

  it('creates the topic, publishes through the RoomProducer and consumes in order', async () => {
    const kafka = createKafka(settingsFrom(productionEnv()));
    const topic = uniqueName('secured');
    await ensureTopics(kafka, [{ name: topic, partitions: 2, replicationFactor: 1, minInsyncReplicas: 1 }]);
    const producer = new RoomProducer(kafka, { partitions: 2 });
    await producer.connect();
    try {
      await producer.send(
        topic,
        ['one', 'two', 'three'].map((value) => ({ roomId: 'room-a', value })),
      );
    } finally {
      await producer.disconnect();
    }
    const records = await consumeAll(kafka, topic, 3);
    expect(records.map(({ value }) => value)).toEqual(['one', 'two', 'three']);
  });

  it.each(['scram-sha-256', 'plain'])('authenticates with %s as well', async (mechanism) => {
    const kafka = createKafka(settingsFrom(productionEnv({ KAFKA_SASL_MECHANISM: mechanism })));
    await expect(ensureTopics(kafka, [{ name: uniqueName(mechanism), partitions: 1 }])).resolves.toBeUndefined();
  });

  it('reports a wrong password as a configuration error naming the variables, without retrying', async () => {
    const kafka = createKafka(
      settingsFrom(productionEnv({ KAFKA_SASL_PASSWORD_FILE: undefined, KAFKA_SASL_PASSWORD: 'wrong-secret' })),
    );
    const attempt = ensureTopics(kafka, [{ name: uniqueName('denied'), partitions: 1 }]);
    await expect(attempt).rejects.toBeInstanceOf(KafkaConfigurationError);
    await expect(attempt).rejects.toThrow(
      /^Kafka refused the SASL credentials \(.*invalid credentials.*\): check KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD/,
    );
  });

  /** Outcome of removing a member nobody has, with the connection settings `env` resolves to. */
  async function removeUnknownMember(env: Record<string, string | undefined>): Promise<StaleMemberOutcome> {
    const outcomes: StaleMemberOutcome[] = [];
    const remover = new StaleMemberRemover({
      settings: settingsFrom(env),
      name: 'secured consumer',
      logger: { log: () => undefined, warn: () => undefined },
      retryIntervalMs: 100,
      // Gives up at the first refusal: a broker that answered with an error is all this needs to see.
      giveUpAfterMs: 0,
      onSettled: (_group, _member, outcome) => outcomes.push(outcome),
    });
    try {
      remover.remove(uniqueName('g'), 'seqcast-unknown-member');
      await waitFor(() => outcomes.length > 0, { timeoutMs: 30_000, what: 'the removal to settle' });
      return outcomes[0];
    } finally {
      await remover.stop();
    }
  }

  it("removes stale group members over the same TLS and SASL as kafkajs (@platformatic/kafka's admin client)", async () => {
    // UNKNOWN_MEMBER_ID is the coordinator's answer to a LeaveGroup, so TLS and SASL got through.
    expect(await removeUnknownMember(productionEnv())).toBe('already gone');
    expect(await removeUnknownMember(productionEnv({ KAFKA_SASL_MECHANISM: 'plain' }))).toBe('already gone');
    expect(
      await removeUnknownMember(
        productionEnv({ KAFKA_SASL_PASSWORD_FILE: undefined, KAFKA_SASL_PASSWORD: 'wrong-secret' }),
      ),
    ).toBe('gave up');
  });

  it('reports a broker certificate the client does not trust by naming KAFKA_SSL_CA_FILE', async () => {
    // Without the CA, Node checks the broker against its public roots, which never signed it.
    const kafka = createKafka(settingsFrom(productionEnv({ KAFKA_SSL_CA_FILE: undefined })));
    const attempt = ensureTopics(kafka, [{ name: uniqueName('untrusted'), partitions: 1 }]);
    await expect(attempt).rejects.toBeInstanceOf(KafkaConfigurationError);
    await expect(attempt).rejects.toThrow(/^Kafka's TLS certificate was not accepted .*: set KAFKA_SSL_CA_FILE/);
  });
});
