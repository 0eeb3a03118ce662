import { Kafka, type KafkaConfig, logLevel, type LogEntry, type logCreator, type SASLOptions } from 'kafkajs';
import { fixKafkajsRequestQueue } from './kafkajs-request-queue';

/** TLS to the brokers; PEM contents, not paths (@seqcast/config reads the files at start-up). */
export interface KafkaTls {
  ca?: string;
  cert?: string;
  key?: string;
  rejectUnauthorized: boolean;
}

export interface KafkaSasl {
  mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
  username: string;
  password: string;
}

/**
 * Which client library carries the consumers and RoomProducer (KAFKA_CLIENT). Admin operations
 * (topics, offsets, group clean-up) use kafkajs either way.
 */
export const KAFKA_CLIENTS = ['kafkajs', 'platformatic'] as const;
export type KafkaClientKind = (typeof KAFKA_CLIENTS)[number];

export interface KafkaSettings {
  brokers: string[];
  clientId: string;
  /** Default: kafkajs. */
  client?: KafkaClientKind;
  /** Absent: plaintext. */
  ssl?: KafkaTls;
  /** Absent: no authentication. */
  sasl?: KafkaSasl;
}

/** Where kafkajs' own log lines go; a Nest `LoggerService` fits. */
export interface KafkaLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

// Bounded so a dead broker surfaces as an error within seconds instead of after kafkajs' defaults
// (30 s request timeout); producers add their own overall deadline on top (see RoomProducer).
export const CONNECTION_TIMEOUT_MS = 3000;
export const REQUEST_TIMEOUT_MS = 10000;
const RETRY = { retries: 5, initialRetryTime: 300, maxRetryTime: 3000 };

const SILENT: KafkaLogger = { log: () => undefined, warn: () => undefined, error: () => undefined };

/** Fields kafkajs attaches to every entry that add nothing to a line in our own logger. */
const NOISE_FIELDS = new Set(['timestamp', 'logger', 'message']);

export function formatLogEntry({ namespace, log }: LogEntry): string {
  const extras = Object.entries(log).filter(([key, value]) => !NOISE_FIELDS.has(key) && value !== undefined);
  const suffix = extras.length > 0 ? ` ${JSON.stringify(Object.fromEntries(extras))}` : '';
  return `kafkajs${namespace ? ` ${namespace}` : ''}: ${log.message}${suffix}`;
}

/**
 * kafkajs logs every error *response* from a broker at ERROR in its Connection layer, including ones
 * the calling code expects and handles (TOPIC_ALREADY_EXISTS when two services create topics at
 * once, "coordinator is loading" while a group forms). Whatever is really fatal is raised again by
 * the layer above, so these are warnings, not errors an operator is paged for.
 */
function isHandledResponseError(entry: LogEntry): boolean {
  return entry.namespace === 'Connection' && entry.log.message.startsWith('Response ');
}

export function routeKafkaLogs(logger: KafkaLogger): logCreator {
  return () => (entry) => {
    const level = entry.level === logLevel.ERROR && isHandledResponseError(entry) ? logLevel.WARN : entry.level;
    switch (level) {
      case logLevel.ERROR:
        logger.error(formatLogEntry(entry));
        return;
      case logLevel.WARN:
        logger.warn(formatLogEntry(entry));
        return;
      case logLevel.INFO:
        logger.log(formatLogEntry(entry));
        return;
      default:
        // DEBUG (and NOTHING) is dropped: kafkajs debug output is per-request and drowns real logs.
        return;
    }
  };
}

/** kafkajs' SASL options are a union per mechanism; spelled out so the compiler checks each one. */
function saslOptions({ mechanism, username, password }: KafkaSasl): SASLOptions {
  switch (mechanism) {
    case 'plain':
      return { mechanism, username, password };
    case 'scram-sha-256':
      return { mechanism, username, password };
    case 'scram-sha-512':
      return { mechanism, username, password };
  }
}

/** The transport part of kafkajs' config: TLS and SASL when set, nothing otherwise (plaintext). */
export function securityOptions(settings: Pick<KafkaSettings, 'ssl' | 'sasl'>): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  const options: Pick<KafkaConfig, 'ssl' | 'sasl'> = {};
  if (settings.ssl) {
    const { ca, cert, key, rejectUnauthorized } = settings.ssl;
    // Without `ca`, Node verifies against its public roots (managed Kafka offerings).
    options.ssl = { rejectUnauthorized, ...(ca ? { ca } : {}), ...(cert && key ? { cert, key } : {}) };
  }
  if (settings.sasl) options.sasl = saslOptions(settings.sasl);
  return options;
}

/**
 * The settings each client of createKafka was made from, for the clients of this lib that need a
 * second connection with the same brokers and security (ResilientConsumer's stale-member removal,
 * which kafkajs cannot do); keyed weakly so a dropped client takes its settings with it.
 */
const settingsOfClient = new WeakMap<Kafka, KafkaSettings>();

/** Records what `kafka` was created from (createKafka does; tests of this lib with a stand-in client). */
export function rememberKafkaSettings(kafka: Kafka, settings: KafkaSettings): void {
  settingsOfClient.set(kafka, settings);
}

/** The settings `kafka` was created from by createKafka; undefined for a client made otherwise. */
export function kafkaSettingsOf(kafka: Kafka): KafkaSettings | undefined {
  return settingsOfClient.get(kafka);
}

/** The client library chosen for `kafka`'s consumers and producers (kafkajs unless createKafka was told otherwise). */
export function kafkaClientOf(kafka: Kafka): KafkaClientKind {
  return settingsOfClient.get(kafka)?.client ?? 'kafkajs';
}

/**
 * A kafkajs client with bounded timeouts whose logs go to `logger` (discarded when none is given).
 * Rejected SASL credentials are not retried by kafkajs (non-retriable); an untrusted broker
 * certificate is, within RETRY's few seconds; ensureTopics turns both into a
 * KafkaConfigurationError naming the variables to fix.
 */
export function createKafka(settings: KafkaSettings, logger: KafkaLogger = SILENT): Kafka {
  // Before the first connection: without it every open kafkajs connection runs a 1 kHz timer.
  fixKafkajsRequestQueue();
  const kafka = new Kafka({
    clientId: settings.clientId,
    brokers: settings.brokers,
    ...securityOptions(settings),
    connectionTimeout: CONNECTION_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    retry: RETRY,
    logLevel: logLevel.INFO,
    logCreator: routeKafkaLogs(logger),
  });
  rememberKafkaSettings(kafka, settings);
  return kafka;
}
