/** ordering-worker's configuration: the only place it reads the environment. */
import {
  commonEnv,
  ConfigValidationError,
  databaseEnv,
  envField,
  kafkaEnv,
  managementEnv,
  parseEnv,
} from '@seqcast/config';
import { DEFAULT_GROUP_TIMEOUTS, type GroupTimeouts, groupTimeoutProblems } from '@seqcast/kafka';

/** Every environment variable this service reads, by name; the Helm chart's tests check against it. */
export const envShape = {
  ...commonEnv,
  ...kafkaEnv,
  ...databaseEnv,
  PORT: envField.port(3002),
  ...managementEnv(9002),
  HOST: envField.string('0.0.0.0'),
  WORKER_GROUP_ID: envField.string('seqcast-ordering'),
  // kafkajs fetches again only once every batch of the last fetch is done: with fewer lanes than
  // partitions, a fetch's batches wait for each other (docs/benchmarks.md, "Where the latency goes").
  WORKER_PARTITIONS_CONCURRENCY: envField.int({ default: 12, min: 1, max: 1000 }),
  // Room for a slow batch transaction plus its publish and LeaveGroup, under Kubernetes' default
  // 30 s grace period.
  WORKER_SHUTDOWN_TIMEOUT_MS: envField.int({ default: 20_000, min: 1_000, max: 600_000 }),
  // 0 keeps history forever; up to 100 years.
  HISTORY_RETENTION_HOURS: envField.int({ default: 0, min: 0, max: 876_000 }),
  // A worker killed without leaving its group holds its partitions this long: the take-over time.
  // Must lie within the brokers' group.min/max.session.timeout.ms (default 6 s - 30 min).
  WORKER_SESSION_TIMEOUT_MS: envField.int({ default: DEFAULT_GROUP_TIMEOUTS.sessionTimeoutMs, min: 1_000, max: 1_800_000 }),
  WORKER_HEARTBEAT_INTERVAL_MS: envField.int({ default: DEFAULT_GROUP_TIMEOUTS.heartbeatIntervalMs, min: 100, max: 600_000 }),
  // How long a rebalance waits for the other workers to finish their batch and rejoin.
  WORKER_REBALANCE_TIMEOUT_MS: envField.int({ default: DEFAULT_GROUP_TIMEOUTS.rebalanceTimeoutMs, min: 1_000, max: 1_800_000 }),
};

export interface WorkerConfig {
  nodeEnv: 'development' | 'production' | 'test';
  logLevel: string;
  host: string;
  port: number;
  /** MANAGEMENT_PORT: /healthz, /readyz and /metrics, apart from the public port. */
  managementPort: number;
  kafka: { brokers: string[]; clientId: string; messagesTopic: string; eventsTopic: string; partitions: number; replicationFactor: number };
  database: { url: string; runMigrations: boolean };
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
  const timeoutProblems = groupTimeoutProblems(groupTimeouts);
  if (timeoutProblems.length > 0) {
    throw new ConfigValidationError(timeoutProblems.map((problem) => `WORKER_*_TIMEOUT_MS/INTERVAL_MS: ${problem}`));
  }
  return {
    nodeEnv: raw.NODE_ENV,
    logLevel: raw.LOG_LEVEL,
    host: raw.HOST,
    port: raw.PORT,
    managementPort: raw.MANAGEMENT_PORT,
    kafka: {
      brokers: raw.KAFKA_BROKERS,
      clientId: raw.KAFKA_CLIENT_ID ?? 'seqcast-ordering-worker',
      messagesTopic: raw.SEQCAST_MESSAGES_TOPIC,
      eventsTopic: raw.SEQCAST_EVENTS_TOPIC,
      partitions: raw.SEQCAST_PARTITIONS,
      replicationFactor: raw.SEQCAST_REPLICATION_FACTOR,
    },
    database: { url: raw.DATABASE_URL, runMigrations: raw.DATABASE_RUN_MIGRATIONS },
    worker: {
      groupId: raw.WORKER_GROUP_ID,
      partitionsConcurrency: raw.WORKER_PARTITIONS_CONCURRENCY,
      shutdownTimeoutMs: raw.WORKER_SHUTDOWN_TIMEOUT_MS,
      historyRetentionHours: raw.HISTORY_RETENTION_HOURS,
      groupTimeouts,
    },
  };
}
