/** ingest-api's configuration: the only place it reads the environment. */
import { authEnv, commonEnv, databaseEnv, envField, kafkaEnv, parseEnv, resolveJwtSecret } from '@seqcast/config';

/**
 * Kafka's default max.message.bytes is ~1 MB and a single-message body becomes a single record,
 * so a larger body limit would only move the failure from a clear 413 to an opaque broker error.
 */
const MAX_BODY_CEILING = 1_048_576;

/** Every environment variable this service reads, by name; the Helm chart's tests check against it. */
export const envShape = {
  ...commonEnv,
  ...kafkaEnv,
  ...databaseEnv,
  ...authEnv,
  PORT: envField.port(3000),
  HOST: envField.string('0.0.0.0'),
  INGEST_MAX_BODY_BYTES: envField.int({ default: 65_536, min: 1_024, max: MAX_BODY_CEILING }),
  // Above the producer's 10 s send deadline, so a request in flight at SIGTERM gets its answer;
  // below Kubernetes' default 30 s grace period, so the forced exit is ours and logged.
  INGEST_SHUTDOWN_TIMEOUT_MS: envField.int({ default: 15_000, min: 1_000, max: 600_000 }),
};

export interface IngestConfig {
  nodeEnv: 'development' | 'production' | 'test';
  logLevel: string;
  host: string;
  port: number;
  maxBodyBytes: number;
  /** SIGTERM → forced exit if the drain has not finished by then (a second signal forces it at once). */
  shutdownTimeoutMs: number;
  jwtSecret: string;
  kafka: { brokers: string[]; clientId: string; messagesTopic: string; partitions: number; replicationFactor: number };
  database: { url: string; runMigrations: boolean };
}

/** Throws ConfigValidationError listing every bad variable (main turns that into exit code 1). */
export function loadIngestConfig(env: Record<string, string | undefined> = process.env): IngestConfig {
  const raw = parseEnv(envShape, env);
  return {
    nodeEnv: raw.NODE_ENV,
    logLevel: raw.LOG_LEVEL,
    host: raw.HOST,
    port: raw.PORT,
    maxBodyBytes: raw.INGEST_MAX_BODY_BYTES,
    shutdownTimeoutMs: raw.INGEST_SHUTDOWN_TIMEOUT_MS,
    jwtSecret: resolveJwtSecret(raw.NODE_ENV, raw.SEQCAST_JWT_SECRET),
    kafka: {
      brokers: raw.KAFKA_BROKERS,
      clientId: raw.KAFKA_CLIENT_ID ?? 'seqcast-ingest-api',
      messagesTopic: raw.SEQCAST_MESSAGES_TOPIC,
      partitions: raw.SEQCAST_PARTITIONS,
      replicationFactor: raw.SEQCAST_REPLICATION_FACTOR,
    },
    database: { url: raw.DATABASE_URL, runMigrations: raw.DATABASE_RUN_MIGRATIONS },
  };
}
