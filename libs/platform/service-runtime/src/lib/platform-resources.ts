import type { LoggerService } from '@nestjs/common';
import {
  createKafka,
  ensureTopics,
  type Kafka,
  KafkaConfigurationError,
  type KafkaLogger,
  type KafkaSettings,
  TopicMismatchError,
  type TopicSpec,
} from '@seqcast/kafka';
import { type DataSource, type DatabaseTls, ensureDatabase, openDatabase } from '@seqcast/persistence';

/** The process-wide connections every service shares: one Kafka client, one DataSource. */
export interface PlatformResources {
  kafka: Kafka;
  dataSource: DataSource;
}

export interface OpenPlatformResourcesOptions {
  logger: LoggerService;
  /** Brokers, client id and the optional TLS/SASL settings (extra fields are ignored). */
  kafka: KafkaSettings;
  /** Created if missing; a partition-count mismatch throws (TopicMismatchError) before anything starts. */
  topics: TopicSpec[];
  database: { url: string; runMigrations: boolean; tls?: DatabaseTls };
  /** Told what start-up waits for before each retry (e.g. StartupProbes.waitingFor). */
  onWaiting?: (reason: string) => void;
  /** Backoff between attempts: doubling from `initialDelayMs` up to `maxDelayMs` (default 500 ms → 5 s). */
  retry?: { initialDelayMs: number; maxDelayMs: number };
}

// Capped low: each attempt against an absent broker already spends a few seconds in kafkajs'
// own retries, and a service should come up soon after its dependency does.
const DEFAULT_RETRY = { initialDelayMs: 500, maxDelayMs: 5_000 };

/**
 * Errors no amount of waiting fixes: the deployment must change (a topic's partition count,
 * PostgreSQL credentials or privileges). Everything else (a broker or database still starting,
 * unreachable, electing leaders, a migration lock held by another service) is worth waiting for.
 */
export function isConfigurationError(error: unknown): boolean {
  if (error instanceof TopicMismatchError || error instanceof KafkaConfigurationError) return true;
  const message = error instanceof Error ? error.message : String(error);
  return /password authentication failed|no pg_hba\.conf entry|role "[^"]*" does not exist|permission denied|SASL|SSL is not enabled|does not support SSL|DATABASE_SSL/i.test(
    message,
  );
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
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
 * A dependency that is not there yet is waited for, with backoff, logging why (a process that could
 * wait must not exit: a restart loop only adds delay and noise); a configuration error (see
 * isConfigurationError) throws one readable error, which main turns into a log line and exit code 1.
 */
export async function openPlatformResources(options: OpenPlatformResourcesOptions): Promise<PlatformResources> {
  const kafka = createKafka(options.kafka, kafkaLoggerFor(options.logger));
  await untilAvailable(options, 'Kafka topics', () => ensureTopics(kafka, options.topics));
  const dataSource = await untilAvailable(options, 'PostgreSQL', async () => {
    if (options.database.runMigrations) await ensureDatabase(options.database.url, options.database.tls);
    return openDatabase(options.database);
  });
  return { kafka, dataSource };
}

async function untilAvailable<T>(
  options: OpenPlatformResourcesOptions,
  what: string,
  attempt: () => Promise<T>,
): Promise<T> {
  const { initialDelayMs, maxDelayMs } = options.retry ?? DEFAULT_RETRY;
  let delayMs = initialDelayMs;
  for (let attempts = 1; ; attempts++) {
    try {
      return await attempt();
    } catch (error) {
      if (isConfigurationError(error)) throw error;
      const reason = `waiting for ${what}: ${describe(error)}`;
      options.onWaiting?.(reason);
      options.logger.warn(`${reason} (attempt ${attempts}; retrying in ${delayMs} ms)`, 'Bootstrap');
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      delayMs = Math.min(delayMs * 2, maxDelayMs);
    }
  }
}
