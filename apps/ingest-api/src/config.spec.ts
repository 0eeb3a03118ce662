import { ConfigValidationError, DEV_JWT_SECRET } from '@seqcast/config';
import { loadIngestConfig } from './config';

describe('loadIngestConfig', () => {
  it('has working defaults for local development', () => {
    expect(loadIngestConfig({})).toEqual({
      nodeEnv: 'development',
      logLevel: 'log',
      host: '0.0.0.0',
      port: 3000,
      maxBodyBytes: 65536,
      shutdownTimeoutMs: 15000,
      jwtSecret: DEV_JWT_SECRET,
      kafka: {
        brokers: ['127.0.0.1:9092'],
        clientId: 'seqcast-ingest-api',
        messagesTopic: 'seqcast.messages',
        partitions: 12,
        replicationFactor: 1,
      },
      database: { url: 'postgres://postgres@127.0.0.1:5432/seqcast', runMigrations: true },
    });
  });

  it('reads every variable it documents', () => {
    const config = loadIngestConfig({
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      PORT: '8080',
      INGEST_MAX_BODY_BYTES: '4096',
      INGEST_SHUTDOWN_TIMEOUT_MS: '25000',
      SEQCAST_JWT_SECRET: 'prod-secret',
      KAFKA_BROKERS: 'k1:9092, k2:9092',
      KAFKA_CLIENT_ID: 'ingest-7',
      SEQCAST_MESSAGES_TOPIC: 'm',
      SEQCAST_PARTITIONS: '3',
      SEQCAST_REPLICATION_FACTOR: '3',
      DATABASE_URL: 'postgresql://u:p@db:5432/s',
      DATABASE_RUN_MIGRATIONS: 'no',
    });
    expect(config).toEqual({
      nodeEnv: 'production',
      logLevel: 'warn',
      host: '127.0.0.1',
      port: 8080,
      maxBodyBytes: 4096,
      shutdownTimeoutMs: 25000,
      jwtSecret: 'prod-secret',
      kafka: { brokers: ['k1:9092', 'k2:9092'], clientId: 'ingest-7', messagesTopic: 'm', partitions: 3, replicationFactor: 3 },
      database: { url: 'postgresql://u:p@db:5432/s', runMigrations: false },
    });
  });

  it('reports every bad variable at once', () => {
    let thrown: unknown;
    try {
      loadIngestConfig({
        PORT: 'abc',
        INGEST_MAX_BODY_BYTES: '10',
        SEQCAST_PARTITIONS: '0',
        INGEST_SHUTDOWN_TIMEOUT_MS: '50',
      });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigValidationError);
    const problems = (thrown as ConfigValidationError).problems;
    expect(problems).toHaveLength(4);
    expect(problems.join('\n')).toMatch(/^PORT: .*"abc"/m);
    expect(problems.join('\n')).toMatch(/^INGEST_SHUTDOWN_TIMEOUT_MS: must be an integer 1000-600000/m);
    expect(problems.join('\n')).toMatch(/^INGEST_MAX_BODY_BYTES: must be an integer 1024-1048576/m);
    expect(problems.join('\n')).toMatch(/^SEQCAST_PARTITIONS: /m);
  });

  it('refuses to run production without a JWT secret', () => {
    expect(() => loadIngestConfig({ NODE_ENV: 'production' })).toThrow(ConfigValidationError);
  });
});
