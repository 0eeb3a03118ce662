import type { FactoryProvider, ModuleMetadata } from '@nestjs/common';
import type { Message } from '@seqcast/contracts';
import type { Kafka } from '@seqcast/kafka';
import type { DataSource } from '@seqcast/persistence';

export interface OrderingWorkerSettings {
  /** SEQCAST_MESSAGES_TOPIC: the input log. */
  messagesTopic: string;
  /** SEQCAST_EVENTS_TOPIC: where sequenced messages are republished, same partition as consumed. */
  eventsTopic: string;
  /** SEQCAST_PARTITIONS: both topics' partition count. */
  partitions: number;
  /** WORKER_GROUP_ID: the Kafka consumer group all workers share. */
  groupId: string;
  /** WORKER_PARTITIONS_CONCURRENCY: partitions processed at the same time by one worker. */
  partitionsConsumedConcurrently: number;
  /** Names this worker in position rows and logs; defaults to host/pid/random. */
  owner?: string;
  /** Batch retry backoff after a database or Kafka error (defaults 200 ms doubling to 5 s). */
  retryInitialMs?: number;
  retryMaxMs?: number;
  /** How long a fenced partition stays paused before this worker re-claims it, if still assigned. */
  fencedPauseMs?: number;
  /**
   * WORKER_SESSION_TIMEOUT_MS, WORKER_HEARTBEAT_INTERVAL_MS, WORKER_REBALANCE_TIMEOUT_MS: the
   * consumer group timeouts (defaults DEFAULT_GROUP_TIMEOUTS of @seqcast/kafka: 6 s / 1 s / 30 s).
   * The session timeout bounds how long a killed worker's partitions wait for a new owner.
   */
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  rebalanceTimeoutMs?: number;
  /** Kafka offset commits (a courtesy, see CourtesyCommits) at most this often (default 1 s). */
  courtesyCommitIntervalMs?: number;
  /** How often the consumer lag gauge is refreshed besides on every batch (default 5 s). */
  lagIntervalMs?: number;
  /**
   * HISTORY_RETENTION_HOURS: messages sequenced longer ago are pruned (never a room's newest, never
   * one not yet published). 0 or absent keeps history forever. Fractions are allowed (tests).
   */
  historyRetentionHours?: number;
  /** Pause between pruning runs (default 60 s) and rows per DELETE (default 500). */
  pruneIntervalMs?: number;
  pruneBatchSize?: number;
}

/** Which batch a fault hook interrupts. */
export interface FaultContext {
  partition: number;
  firstOffset: number;
  lastOffset: number;
  messages: Message[];
}

/**
 * Test hooks. Throwing from a hook simulates a crash at that point: the worker abandons the batch
 * (before COMMIT: the transaction rolls back) and stops consuming at once, as if the process died,
 * without publishing or committing anything more.
 */
export interface WorkerFaults {
  /** After the batch's rows are written, before the transaction commits. */
  beforeCommit?: (context: FaultContext) => Promise<void>;
  /** After the commit, before the messages are published to the events topic. */
  afterCommit?: (context: FaultContext) => Promise<void>;
}

/** A dependency the host application owns (and closes); the module only injects it. */
export interface HostProvided<T> {
  inject?: FactoryProvider['inject'];
  useFactory: (...deps: never[]) => T | Promise<T>;
}

export interface OrderingWorkerModuleOptions {
  settings: OrderingWorkerSettings;
  /** Modules exporting what the `kafka` and `dataSource` factories inject. */
  imports?: ModuleMetadata['imports'];
  kafka: HostProvided<Kafka>;
  dataSource: HostProvided<DataSource>;
  /** Test-only crash points (see WorkerFaults); never set in production. */
  faults?: WorkerFaults;
}

export const ORDERING_WORKER_SETTINGS = Symbol('ORDERING_WORKER_SETTINGS');
export const WORKER_KAFKA = Symbol('ORDERING_WORKER_KAFKA');
export const WORKER_DATA_SOURCE = Symbol('ORDERING_WORKER_DATA_SOURCE');
/** Optional provider of `WorkerFaults`; absent in production. */
export const WORKER_FAULTS = Symbol('WORKER_FAULTS');
