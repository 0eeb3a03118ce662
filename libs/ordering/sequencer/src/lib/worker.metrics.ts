/**
 * The ordering worker's Prometheus metrics, on prom-client's default registry (served by the app's
 * MetricsModule). Defined once per process at import; tests compare before/after values.
 */
import { Counter, Gauge, Histogram } from 'prom-client';

/** A batch transaction is a few statements on one connection: milliseconds, seconds when unhealthy. */
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export const workerMetrics = {
  sequencedMessages: new Counter({
    name: 'seqcast_worker_sequenced_messages_total',
    help: 'Messages given a seq and stored (first accepted copies)',
  }),
  duplicatesDropped: new Counter({
    name: 'seqcast_worker_duplicates_dropped_total',
    help:
      'Retries dropped: their (roomId, senderId, clientMsgId) and payload were already stored or earlier in the batch',
  }),
  idempotencyConflicts: new Counter({
    name: 'seqcast_worker_idempotency_conflicts_total',
    help:
      'Records re-using a stored (roomId, senderId, clientMsgId) with a different payload: dead-lettered, ' +
      'reason "idempotency_conflict: ..."',
  }),
  deadLetters: new Counter({
    name: 'seqcast_worker_dead_letters_total',
    help: 'Records stored in seqcast_dead_letters and skipped (poison and idempotency conflicts)',
  }),
  batchDuration: new Histogram({
    name: 'seqcast_worker_batch_duration_seconds',
    help: 'Duration of one batch transaction (fence check, sequencing, inserts, position), committed batches only',
    buckets: DURATION_BUCKETS,
  }),
  commitGroups: new Counter({
    name: 'seqcast_worker_commit_groups_total',
    help: "Database commits of batches: one per commit group (several partitions' batches), or per batch alone",
  }),
  commitPaths: new Counter({
    name: 'seqcast_worker_commit_paths_total',
    help:
      'Committed batches or commit groups by how they were written: "write" one statement (room heads known), ' +
      '"read-write" a read first (new rooms after a claim), "retried" the one statement met a stored ' +
      'idempotency key (a retry across batches), so it was read and written again',
    labelNames: ['path'] as const,
  }),
  batchFailures: new Counter({
    name: 'seqcast_worker_batch_failures_total',
    help: 'Batch attempts that failed on a database or Kafka error and were retried with backoff',
  }),
  fencedBatches: new Counter({
    name: 'seqcast_worker_fenced_batches_total',
    help: 'Batches or publish bookkeeping refused because another worker claimed the partition since',
  }),
  epochRotations: new Counter({
    name: 'seqcast_worker_epoch_rotations_total',
    help: 'Epoch rotations this worker performed after finding the input log reset',
  }),
  publishDuration: new Histogram({
    name: 'seqcast_worker_events_publish_duration_seconds',
    help: 'Time to publish one batch of sequenced messages to the events topic (acks=all)',
    buckets: DURATION_BUCKETS,
  }),
  republishedMessages: new Counter({
    name: 'seqcast_worker_republished_messages_total',
    help: 'Stored messages republished from the outbox after a claim or a failed publish',
  }),
  consumerLag: new Gauge({
    name: 'seqcast_worker_consumer_lag_messages',
    help: "Log end offset minus this worker's position, per assigned partition of the messages topic",
    labelNames: ['partition'] as const,
  }),
  assignedPartitions: new Gauge({
    name: 'seqcast_worker_assigned_partitions',
    help: 'Partitions of the messages topic currently assigned to this worker',
  }),
  prunedMessages: new Counter({
    name: 'seqcast_worker_pruned_messages_total',
    help: 'Messages deleted by history retention (HISTORY_RETENTION_HOURS)',
  }),
};
