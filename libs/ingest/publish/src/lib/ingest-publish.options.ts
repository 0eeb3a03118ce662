import type { DynamicModule, FactoryProvider, ModuleMetadata } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { Kafka } from '@seqcast/kafka';
import type { PublishRateLimitOptions } from '@seqcast/publish-core';

// The write path's types live in @seqcast/publish-core (shared with the gateway's socket publish).
export {
  type Clock,
  DEFAULT_IDEMPOTENCY_CACHE_SIZE,
  type RecordProducer,
  type StoredSeqReader,
} from '@seqcast/publish-core';

/** A dependency the host application owns (and closes); the module only injects it. */
export interface HostProvided<T> {
  inject?: FactoryProvider['inject'];
  useFactory: (...deps: never[]) => T | Promise<T>;
}

export interface IngestPublishOptions {
  /** SEQCAST_MESSAGES_TOPIC: where accepted messages are written. */
  messagesTopic: string;
  /** SEQCAST_PARTITIONS: the producer's room → partition mapping must agree with every other service. */
  partitions: number;
  /**
   * How many recently accepted (room, sender, clientMsgId) keys this instance remembers to answer
   * retries (`duplicate: true`) and refuse re-used keys (409) without a database read. About 250
   * bytes each; 0 turns the check off (the ordering worker still applies the rule).
   */
  idempotencyCacheSize?: number;
  /** The host's `HttpAuthModule.register(...)` (@seqcast/http-api): who the caller is. */
  authentication: DynamicModule;
  /** INGEST_PUBLISH_RATE_PER_SEC per principal; omitted or 0: no limit. */
  publishRateLimit?: PublishRateLimitOptions;
  /** Modules exporting what the `kafka` and `dataSource` factories inject. */
  imports?: ModuleMetadata['imports'];
  /** The Kafka client the module builds its RoomProducer on; the module connects and disconnects the producer. */
  kafka: HostProvided<Kafka>;
  /** The database duplicates' stored seqs are read from. */
  dataSource: HostProvided<DataSource>;
}

export const INGEST_PUBLISH_OPTIONS = Symbol('INGEST_PUBLISH_OPTIONS');
export const RECORD_PRODUCER = Symbol('RECORD_PRODUCER');
export const STORED_SEQ_READER = Symbol('STORED_SEQ_READER');
export const INGEST_CLOCK = Symbol('INGEST_CLOCK');
export const KAFKA_CLIENT = Symbol('INGEST_KAFKA_CLIENT');
export const HISTORY_DATA_SOURCE = Symbol('INGEST_HISTORY_DATA_SOURCE');
