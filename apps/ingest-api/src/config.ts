/** ingest-api's configuration: the only place it reads the environment. */
import {
  authEnv,
  type AuthSettings,
  commonEnv,
  databaseEnv,
  ingestApiEnv,
  kafkaEnv,
  originsEnv,
  type DatabaseTlsSettings,
  type KafkaSecuritySettings,
  parseEnv,
  resolveAllowedOrigins,
  resolveAuthSettings,
  resolveDatabaseTls,
  resolveKafkaSecurity,
} from '@seqcast/config';

/** Every environment variable this service reads, by name: its env groups (services.json `envGroups`). */
export const envShape = {
  ...commonEnv,
  ...kafkaEnv,
  ...databaseEnv,
  ...authEnv,
  ...originsEnv,
  ...ingestApiEnv,
};

export interface IngestConfig {
  nodeEnv: 'development' | 'production' | 'test';
  logLevel: string;
  host: string;
  port: number;
  /** MANAGEMENT_PORT: /healthz, /readyz and /metrics, apart from the public port. */
  managementPort: number;
  maxBodyBytes: number;
  /** SIGTERM → forced exit if the drain has not finished by then (a second signal forces it at once). */
  shutdownTimeoutMs: number;
  /** How bearer tokens are verified (SEQCAST_JWT_*, SEQCAST_AUTH_TOKEN_CACHE_SIZE). */
  auth: AuthSettings;
  apiKeyCacheTtlMs: number;
  /** Browser origins allowed (SEQCAST_ALLOWED_ORIGINS); `*` only outside production. */
  allowedOrigins: string[];
  /** 0: unlimited. */
  publishRatePerSec: number;
  /** Shared rate-limit store; may carry a password: never log it. */
  redisUrl?: string;
  /** ssl/sasl (KAFKA_SSL*, KAFKA_SASL*) hold PEM contents and a password: never log them. */
  kafka: {
    brokers: string[];
    clientId: string;
    /** KAFKA_CLIENT: the library under the consumers and producers. */
    client: 'kafkajs' | 'platformatic';
    messagesTopic: string;
    partitions: number;
    replicationFactor: number;
    minInsyncReplicas: number;
  } & KafkaSecuritySettings;
  database: { url: string; runMigrations: boolean; tls: DatabaseTlsSettings };
}

/** Throws ConfigValidationError listing every bad variable (main turns that into exit code 1). */
export function loadIngestConfig(env: Record<string, string | undefined> = process.env): IngestConfig {
  const raw = parseEnv(envShape, env);
  return {
    nodeEnv: raw.NODE_ENV,
    logLevel: raw.LOG_LEVEL,
    host: raw.HOST,
    port: raw.PORT,
    managementPort: raw.MANAGEMENT_PORT,
    maxBodyBytes: raw.INGEST_MAX_BODY_BYTES,
    shutdownTimeoutMs: raw.INGEST_SHUTDOWN_TIMEOUT_MS,
    auth: resolveAuthSettings(raw.NODE_ENV, raw),
    apiKeyCacheTtlMs: raw.SEQCAST_API_KEY_CACHE_TTL_MS,
    allowedOrigins: resolveAllowedOrigins(raw.NODE_ENV, raw.SEQCAST_ALLOWED_ORIGINS),
    publishRatePerSec: raw.INGEST_PUBLISH_RATE_PER_SEC,
    ...(raw.SEQCAST_REDIS_URL ? { redisUrl: raw.SEQCAST_REDIS_URL } : {}),
    kafka: {
      brokers: raw.KAFKA_BROKERS,
      clientId: raw.KAFKA_CLIENT_ID ?? 'seqcast-ingest-api',
      client: raw.KAFKA_CLIENT,
      messagesTopic: raw.SEQCAST_MESSAGES_TOPIC,
      partitions: raw.SEQCAST_PARTITIONS,
      replicationFactor: raw.SEQCAST_REPLICATION_FACTOR,
      minInsyncReplicas: raw.SEQCAST_MIN_INSYNC_REPLICAS,
      ...resolveKafkaSecurity(raw.NODE_ENV, raw),
    },
    database: { url: raw.DATABASE_URL, runMigrations: raw.DATABASE_RUN_MIGRATIONS, tls: resolveDatabaseTls(raw) },
  };
}
