/** ordering-worker's configuration: the only place it reads the environment. */
import {
  commonEnv,
  ConfigValidationError,
  databaseEnv,
  kafkaEnv,
  orderingWorkerEnv,
  orderingWorkerEnvProblems,
  type DatabaseTlsSettings,
  type KafkaSecuritySettings,
  parseEnv,
  resolveDatabaseTls,
  resolveKafkaSecurity,
} from '@seqcast/config';
import type { GroupTimeouts } from '@seqcast/kafka';

/** Every environment variable this service reads, by name: its env groups (services.json `envGroups`). */
export const envShape = {
  ...commonEnv,
  ...kafkaEnv,
  ...databaseEnv,
  ...orderingWorkerEnv,
};

export interface WorkerConfig {
  nodeEnv: 'development' | 'production' | 'test';
  logLevel: string;
  host: string;
  port: number;
  /** MANAGEMENT_PORT: /healthz, /readyz and /metrics, apart from the public port. */
  managementPort: number;
  /** ssl/sasl (KAFKA_SSL*, KAFKA_SASL*) hold PEM contents and a password: never log them. */
  kafka: {
    brokers: string[];
    clientId: string;
    /** KAFKA_CLIENT: the library under the consumers and producers. */
    client: 'kafkajs' | 'platformatic';
    messagesTopic: string;
    eventsTopic: string;
    partitions: number;
    replicationFactor: number;
    minInsyncReplicas: number;
  } & KafkaSecuritySettings;
  database: { url: string; runMigrations: boolean; tls: DatabaseTlsSettings };
  worker: {
    groupId: string;
    partitionsConcurrency: number;
    /** SIGTERM → forced exit if the worker has not left its group by then (a second signal forces it at once). */
    shutdownTimeoutMs: number;
    /** Messages sequenced longer ago are pruned; 0 = keep forever. */
    historyRetentionHours: number;
    /** Consumer group session/heartbeat/rebalance timeouts. */
    groupTimeouts: GroupTimeouts;
  };
}

/** Throws ConfigValidationError listing every bad variable (main turns that into exit code 1). */
export function loadWorkerConfig(env: Record<string, string | undefined> = process.env): WorkerConfig {
  const raw = parseEnv(envShape, env);
  const groupTimeouts: GroupTimeouts = {
    sessionTimeoutMs: raw.WORKER_SESSION_TIMEOUT_MS,
    heartbeatIntervalMs: raw.WORKER_HEARTBEAT_INTERVAL_MS,
    rebalanceTimeoutMs: raw.WORKER_REBALANCE_TIMEOUT_MS,
  };
  const timeoutProblems = orderingWorkerEnvProblems(env);
  if (timeoutProblems.length > 0) throw new ConfigValidationError(timeoutProblems);
  return {
    nodeEnv: raw.NODE_ENV,
    logLevel: raw.LOG_LEVEL,
    host: raw.HOST,
    port: raw.PORT,
    managementPort: raw.MANAGEMENT_PORT,
    kafka: {
      brokers: raw.KAFKA_BROKERS,
      clientId: raw.KAFKA_CLIENT_ID ?? 'seqcast-ordering-worker',
      client: raw.KAFKA_CLIENT,
      messagesTopic: raw.SEQCAST_MESSAGES_TOPIC,
      eventsTopic: raw.SEQCAST_EVENTS_TOPIC,
      partitions: raw.SEQCAST_PARTITIONS,
      replicationFactor: raw.SEQCAST_REPLICATION_FACTOR,
      minInsyncReplicas: raw.SEQCAST_MIN_INSYNC_REPLICAS,
      ...resolveKafkaSecurity(raw.NODE_ENV, raw),
    },
    database: { url: raw.DATABASE_URL, runMigrations: raw.DATABASE_RUN_MIGRATIONS, tls: resolveDatabaseTls(raw) },
    worker: {
      groupId: raw.WORKER_GROUP_ID,
      partitionsConcurrency: raw.WORKER_PARTITIONS_CONCURRENCY,
      shutdownTimeoutMs: raw.WORKER_SHUTDOWN_TIMEOUT_MS,
      historyRetentionHours: raw.HISTORY_RETENTION_HOURS,
      groupTimeouts,
    },
  };
}
