import { ConfigValidationError } from '@seqcast/config';
import { loadWorkerConfig } from './config';

describe('loadWorkerConfig', () => {
  it('has working defaults for local development', () => {
    expect(loadWorkerConfig({})).toEqual({
      nodeEnv: 'development',
      logLevel: 'log',
      host: '0.0.0.0',
      port: 3002,
      managementPort: 9002,
      kafka: {
        brokers: ['127.0.0.1:9092'],
        clientId: 'seqcast-ordering-worker',
        client: 'platformatic',
        messagesTopic: 'seqcast.messages',
        eventsTopic: 'seqcast.events',
        partitions: 12,
        replicationFactor: 1,
        minInsyncReplicas: 1,
      },
      database: { url: 'postgres://postgres@127.0.0.1:5432/seqcast', runMigrations: true, tls: { mode: 'disable' } },
      worker: {
        groupId: 'seqcast-ordering',
        partitionsConcurrency: 12,
        shutdownTimeoutMs: 20000,
        historyRetentionHours: 0,
        groupTimeouts: { sessionTimeoutMs: 6_000, heartbeatIntervalMs: 1_000, rebalanceTimeoutMs: 30_000 },
      },
    });
  });

  it('reads every variable it documents', () => {
    expect(
      loadWorkerConfig({
        NODE_ENV: 'production',
        LOG_LEVEL: 'debug',
        HOST: '127.0.0.1',
        PORT: '9000',
        MANAGEMENT_PORT: '9100',
        KAFKA_BROKERS: 'k1:9092,k2:9092',
        KAFKA_CLIENT_ID: 'worker-3',
        KAFKA_CLIENT: 'kafkajs',
        SEQCAST_MESSAGES_TOPIC: 'in',
        SEQCAST_EVENTS_TOPIC: 'out',
        SEQCAST_PARTITIONS: '6',
        SEQCAST_REPLICATION_FACTOR: '3',
        SEQCAST_MIN_INSYNC_REPLICAS: '2',
        KAFKA_SSL: 'true',
        KAFKA_SASL_MECHANISM: 'scram-sha-512',
        KAFKA_SASL_USERNAME: 'seqcast',
        KAFKA_SASL_PASSWORD: 'pw',
        DATABASE_SSL: 'require',
        DATABASE_URL: 'postgresql://u:p@db:5432/s',
        DATABASE_RUN_MIGRATIONS: 'false',
        WORKER_GROUP_ID: 'ordering-blue',
        WORKER_PARTITIONS_CONCURRENCY: '6',
        WORKER_SHUTDOWN_TIMEOUT_MS: '45000',
        HISTORY_RETENTION_HOURS: '720',
        WORKER_SESSION_TIMEOUT_MS: '10000',
        WORKER_HEARTBEAT_INTERVAL_MS: '2000',
        WORKER_REBALANCE_TIMEOUT_MS: '45000',
      }),
    ).toEqual({
      nodeEnv: 'production',
      logLevel: 'debug',
      host: '127.0.0.1',
      port: 9000,
      managementPort: 9100,
      kafka: {
        brokers: ['k1:9092', 'k2:9092'],
        clientId: 'worker-3',
        client: 'kafkajs',
        messagesTopic: 'in',
        eventsTopic: 'out',
        partitions: 6,
        replicationFactor: 3,
        minInsyncReplicas: 2,
        ssl: { rejectUnauthorized: true },
        sasl: { mechanism: 'scram-sha-512', username: 'seqcast', password: 'pw' },
      },
      database: { url: 'postgresql://u:p@db:5432/s', runMigrations: false, tls: { mode: 'require' } },
      worker: {
        groupId: 'ordering-blue',
        partitionsConcurrency: 6,
        shutdownTimeoutMs: 45000,
        historyRetentionHours: 720,
        groupTimeouts: { sessionTimeoutMs: 10_000, heartbeatIntervalMs: 2_000, rebalanceTimeoutMs: 45_000 },
      },
    });
  });

  it('reports every bad variable at once', () => {
    const error = (() => {
      try {
        loadWorkerConfig({
          PORT: 'abc',
          WORKER_PARTITIONS_CONCURRENCY: '0',
          DATABASE_URL: 'mysql://x',
          WORKER_SHUTDOWN_TIMEOUT_MS: '10',
          HISTORY_RETENTION_HOURS: '-1',
        });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConfigValidationError);
    const problems = (error as ConfigValidationError).problems;
    expect(problems).toHaveLength(5);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^PORT: /),
        expect.stringMatching(/^WORKER_PARTITIONS_CONCURRENCY: /),
        expect.stringMatching(/^DATABASE_URL: /),
        expect.stringMatching(/^WORKER_SHUTDOWN_TIMEOUT_MS: must be an integer 1000-600000/),
        expect.stringMatching(/^HISTORY_RETENTION_HOURS: must be an integer 0-876000/),
      ]),
    );
  });

  it('refuses an unknown KAFKA_CLIENT', () => {
    expect(() => loadWorkerConfig({ KAFKA_CLIENT: 'librdkafka' })).toThrow(/KAFKA_CLIENT: /);
  });

  it('refuses group timeouts that would evict live workers', () => {
    expect(() => loadWorkerConfig({ WORKER_SESSION_TIMEOUT_MS: '6000', WORKER_HEARTBEAT_INTERVAL_MS: '3000' })).toThrow(
      /heartbeat interval 3000 ms must be at most a third of the session timeout 6000 ms/,
    );
  });
});
