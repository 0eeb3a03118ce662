import { ConfigValidationError, DEV_JWT_SECRET } from '@seqcast/config';
import { loadIngestConfig } from './config';

describe('loadIngestConfig', () => {
  it('has working defaults for local development', () => {
    expect(loadIngestConfig({})).toEqual({
      nodeEnv: 'development',
      logLevel: 'log',
      host: '0.0.0.0',
      port: 3000,
      managementPort: 9000,
      maxBodyBytes: 65536,
      shutdownTimeoutMs: 15000,
      auth: {
        keySource: { kind: 'secret', secret: DEV_JWT_SECRET },
        issuer: undefined,
        audience: undefined,
        clockToleranceSeconds: 30,
        tokenCacheSize: 10_000,
      },
      apiKeyCacheTtlMs: 30_000,
      allowedOrigins: ['*'],
      publishRatePerSec: 500,
      kafka: {
        brokers: ['127.0.0.1:9092'],
        clientId: 'seqcast-ingest-api',
        client: 'platformatic',
        messagesTopic: 'seqcast.messages',
        partitions: 12,
        replicationFactor: 1,
        minInsyncReplicas: 1,
      },
      database: { url: 'postgres://postgres@127.0.0.1:5432/seqcast', runMigrations: true, tls: { mode: 'disable' } },
    });
  });

  it('reads every variable it documents', () => {
    const config = loadIngestConfig({
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      PORT: '8080',
      MANAGEMENT_PORT: '9100',
      INGEST_MAX_BODY_BYTES: '4096',
      INGEST_SHUTDOWN_TIMEOUT_MS: '25000',
      SEQCAST_JWT_JWKS_URL: 'https://idp.example/jwks.json',
      SEQCAST_JWT_ISSUER: 'https://idp.example/',
      SEQCAST_JWT_AUDIENCE: 'seqcast',
      SEQCAST_JWT_CLOCK_TOLERANCE_S: '10',
      SEQCAST_AUTH_TOKEN_CACHE_SIZE: '500',
      SEQCAST_API_KEY_CACHE_TTL_MS: '5000',
      SEQCAST_ALLOWED_ORIGINS: 'https://app.example.com',
      INGEST_PUBLISH_RATE_PER_SEC: '50',
      SEQCAST_REDIS_URL: 'redis://:pw@redis:6379/0',
      KAFKA_BROKERS: 'k1:9092, k2:9092',
      KAFKA_CLIENT_ID: 'ingest-7',
      KAFKA_CLIENT: 'kafkajs',
      SEQCAST_MESSAGES_TOPIC: 'm',
      SEQCAST_PARTITIONS: '3',
      SEQCAST_REPLICATION_FACTOR: '3',
      SEQCAST_MIN_INSYNC_REPLICAS: '2',
      KAFKA_SSL: 'true',
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'seqcast',
      KAFKA_SASL_PASSWORD: 'pw',
      DATABASE_SSL: 'require',
      DATABASE_URL: 'postgresql://u:p@db:5432/s',
      DATABASE_RUN_MIGRATIONS: 'no',
    });
    expect(config).toEqual({
      nodeEnv: 'production',
      logLevel: 'warn',
      host: '127.0.0.1',
      port: 8080,
      managementPort: 9100,
      maxBodyBytes: 4096,
      shutdownTimeoutMs: 25000,
      auth: {
        keySource: { kind: 'jwks', url: 'https://idp.example/jwks.json', algorithms: ['RS256', 'ES256', 'EdDSA'] },
        issuer: 'https://idp.example/',
        audience: ['seqcast'],
        clockToleranceSeconds: 10,
        tokenCacheSize: 500,
      },
      apiKeyCacheTtlMs: 5000,
      allowedOrigins: ['https://app.example.com'],
      publishRatePerSec: 50,
      redisUrl: 'redis://:pw@redis:6379/0',
      kafka: {
        brokers: ['k1:9092', 'k2:9092'],
        clientId: 'ingest-7',
        client: 'kafkajs',
        messagesTopic: 'm',
        partitions: 3,
        replicationFactor: 3,
        minInsyncReplicas: 2,
        ssl: { rejectUnauthorized: true },
        sasl: { mechanism: 'scram-sha-512', username: 'seqcast', password: 'pw' },
      },
      database: { url: 'postgresql://u:p@db:5432/s', runMigrations: false, tls: { mode: 'require' } },
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

  it('refuses any-origin in production', () => {
    expect(() =>
      loadIngestConfig({ NODE_ENV: 'production', SEQCAST_JWT_SECRET: 's', SEQCAST_ALLOWED_ORIGINS: '*' }),
    ).toThrow(/SEQCAST_ALLOWED_ORIGINS/);
  });

  it('refuses to run production without a key source, and with two', () => {
    expect(() => loadIngestConfig({ NODE_ENV: 'production' })).toThrow(/one key source is required/);
    expect(() => loadIngestConfig({ SEQCAST_JWT_SECRET: 'x', SEQCAST_JWT_PUBLIC_KEY_FILE: '/k.pem' })).toThrow(
      /SEQCAST_JWT_SECRET, SEQCAST_JWT_PUBLIC_KEY_FILE: set exactly one key source/,
    );
  });
});
