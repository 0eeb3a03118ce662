/**
 * The consumer group member that the worker and the gateway use, whichever client library carries
 * it (KAFKA_CLIENT): PlatformaticConsumer on @platformatic/kafka (the services' default),
 * ResilientConsumer on kafkajs. Both take the same options and call `eachBatch` with the same payload,
 * and share their lifecycle (ConsumerLifecycle: start, stop, status, recreation with backoff).
 */
import type { Kafka, TopicPartitionOffset, TopicPartitionOffsetAndMetadata, TopicPartitions } from 'kafkajs';
import { kafkaClientOf, kafkaSettingsOf } from './kafka-client';
import { PlatformaticConsumer } from './platformatic-consumer';
import type { ConsumerStatus, ResilientConsumerOptions } from './consumer-lifecycle';
import { ResilientConsumer } from './resilient-consumer';

export interface GroupConsumer {
  /** Starts consuming in the background; never throws for an unavailable broker. */
  start(): void;
  /** Leaves the group after the batches in flight; idempotent. */
  stop(): Promise<void>;
  status(): ConsumerStatus;
  /** Readiness: throws (with the reason) unless consuming. */
  assertConsuming(): void;
  pause(topics: TopicPartitions[]): void;
  resume(topics: TopicPartitions[]): void;
  seek(entry: TopicPartitionOffset): void;
  commitOffsets(offsets: TopicPartitionOffsetAndMetadata[]): Promise<void>;
}

/** A consumer on the client library `kafka` was created for (createKafka's `client`). */
export function createResilientConsumer(kafka: Kafka, options: ResilientConsumerOptions): GroupConsumer {
  const settings = kafkaSettingsOf(kafka);
  if (settings && kafkaClientOf(kafka) === 'platformatic') return new PlatformaticConsumer(settings, options);
  return new ResilientConsumer(kafka, options);
}
