/** ordering-worker's configuration: the only place it reads the environment. */
import { commonEnv, databaseEnv, envField, kafkaEnv, parseEnv } from '@seqcast/config';

/** Every environment variable this service reads, by name; the Helm chart's tests check against it. */
export const envShape = {
  ...commonEnv,
  ...kafkaEnv,
  ...databaseEnv,
  PORT: envField.port(3002),
  HOST: envField.string('0.0.0.0'),
  WORKER_GROUP_ID: envField.string('seqcast-ordering'),
  WORKER_PARTITIONS_CONCURRENCY: envField.int({ default: 3, min: 1, max: 1000 }),
};

export interface WorkerConfig {
  nodeEnv: 'development' | 'production' | 'test';
  logLevel: string;
  host: string;
  port: number;
  kafka: { brokers: string[]; clientId: string; messagesTopic: string; eventsTopic: string; partitions: number };
  database: { url: string; runMigrations: boolean };
  worker: { groupId: string; partitionsConcurrency: number };
}

/** Throws ConfigValidationError listing every bad variable (main turns that into exit code 1). */
export function loadWorkerConfig(env: Record<string, string | undefined> = process.env): WorkerConfig {
  const raw = parseEnv(envShape, env);
  return {
    nodeEnv: raw.NODE_ENV,
    logLevel: raw.LOG_LEVEL,
    host: raw.HOST,
    port: raw.PORT,
    kafka: {
      brokers: raw.KAFKA_BROKERS,
      clientId: raw.KAFKA_CLIENT_ID ?? 'seqcast-ordering-worker',
      messagesTopic: raw.SEQCAST_MESSAGES_TOPIC,
      eventsTopic: raw.SEQCAST_EVENTS_TOPIC,
      partitions: raw.SEQCAST_PARTITIONS,
    },
    database: { url: raw.DATABASE_URL, runMigrations: raw.DATABASE_RUN_MIGRATIONS },
    worker: { groupId: raw.WORKER_GROUP_ID, partitionsConcurrency: raw.WORKER_PARTITIONS_CONCURRENCY },
  };
}
