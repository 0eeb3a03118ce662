import type { LoggerService } from '@nestjs/common';
import { createKafka, ensureTopics, type Kafka, type KafkaLogger, type TopicSpec } from '@seqcast/kafka';
import { type DataSource, ensureDatabase, openDatabase } from '@seqcast/persistence';

/** The process-wide connections every service shares: one Kafka client, one DataSource. */
export interface PlatformResources {
  kafka: Kafka;
  dataSource: DataSource;
}

export interface OpenPlatformResourcesOptions {
  logger: LoggerService;
  kafka: { brokers: string[]; clientId: string };
  /** Created if missing; a partition-count mismatch throws (TopicMismatchError) before anything starts. */
  topics: TopicSpec[];
  database: { url: string; runMigrations: boolean };
}

/** kafkajs' own log lines, through the service's JSON logger under the `Kafka` context. */
export function kafkaLoggerFor(logger: LoggerService): KafkaLogger {
  return {
    log: (message) => logger.log(message, 'Kafka'),
    warn: (message) => logger.warn(message, 'Kafka'),
    error: (message) => logger.error(message, 'Kafka'),
  };
}

/**
 * Opens what a service needs before Nest starts, in the order that makes failures plain: topics
 * with the agreed partition count, then the database (created if migrations are on) and its schema.
 * Anything wrong throws one readable error, which main turns into a log line and exit code 1.
 */
export async function openPlatformResources(options: OpenPlatformResourcesOptions): Promise<PlatformResources> {
  const kafka = createKafka(options.kafka, kafkaLoggerFor(options.logger));
  await ensureTopics(kafka, options.topics);
  if (options.database.runMigrations) await ensureDatabase(options.database.url);
  const dataSource = await openDatabase(options.database);
  return { kafka, dataSource };
}
