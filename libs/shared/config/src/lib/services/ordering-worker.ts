/** ordering-worker's own variables (env group `ordering-worker`); it also reads common, kafka and database. */
import { envField } from '../env-field';
import { managementEnv } from '../management';
import { CONSUMER_GROUP_TIMEOUT_DEFAULTS, consumerGroupTimeoutProblems } from './consumer-group';

type Env = Record<string, string | undefined>;

export const orderingWorkerEnv = {
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
  WORKER_SESSION_TIMEOUT_MS: envField.int({
    default: CONSUMER_GROUP_TIMEOUT_DEFAULTS.sessionTimeoutMs,
    min: 1_000,
    max: 1_800_000,
  }),
  WORKER_HEARTBEAT_INTERVAL_MS: envField.int({
    default: CONSUMER_GROUP_TIMEOUT_DEFAULTS.heartbeatIntervalMs,
    min: 100,
    max: 600_000,
  }),
  // How long a rebalance waits for the other workers to finish their batch and rejoin.
  WORKER_REBALANCE_TIMEOUT_MS: envField.int({
    default: CONSUMER_GROUP_TIMEOUT_DEFAULTS.rebalanceTimeoutMs,
    min: 1_000,
    max: 1_800_000,
  }),
};

/** The rule between the group timeouts; only checked when each is valid on its own. */
export function orderingWorkerEnvProblems(env: Env): string[] {
  const session = orderingWorkerEnv.WORKER_SESSION_TIMEOUT_MS.safeParse(env['WORKER_SESSION_TIMEOUT_MS']);
  const heartbeat = orderingWorkerEnv.WORKER_HEARTBEAT_INTERVAL_MS.safeParse(env['WORKER_HEARTBEAT_INTERVAL_MS']);
  const rebalance = orderingWorkerEnv.WORKER_REBALANCE_TIMEOUT_MS.safeParse(env['WORKER_REBALANCE_TIMEOUT_MS']);
  if (!session.success || !heartbeat.success || !rebalance.success) return [];
  return consumerGroupTimeoutProblems({
    sessionTimeoutMs: session.data,
    heartbeatIntervalMs: heartbeat.data,
    rebalanceTimeoutMs: rebalance.data,
  }).map((problem) => `WORKER_*_TIMEOUT_MS/INTERVAL_MS: ${problem}`);
}
