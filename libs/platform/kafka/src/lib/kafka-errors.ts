/** The broker could not take a write (unreachable, timed out, not enough replicas): map to HTTP 503. */
export class KafkaUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KafkaUnavailableError';
  }
}

/** An existing topic's partition count differs from the configured one. */
export class TopicMismatchError extends Error {
  constructor(
    readonly topic: string,
    readonly actualPartitions: number,
    readonly expectedPartitions: number,
  ) {
    super(
      `topic "${topic}" exists with ${actualPartitions} partitions but SEQCAST_PARTITIONS=${expectedPartitions}; ` +
        `set SEQCAST_PARTITIONS=${actualPartitions} to use the existing topic, or delete and recreate it with ` +
        `${expectedPartitions} partitions (adding partitions in place would move rooms to other partitions and ` +
        `break per-room ordering)`,
    );
    this.name = 'TopicMismatchError';
  }
}

// kafkajs error names and protocol error types that mean "the cluster cannot serve this right now",
// as opposed to a request that can never succeed (bad topic name, message too large, auth).
const TRANSIENT_ERROR_NAMES = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSNumberOfRetriesExceeded',
  'KafkaJSBrokerNotFound',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSTopicMetadataNotLoaded',
  'KafkaJSLockTimeout',
  'KafkaJSTimeout',
]);
const TRANSIENT_PROTOCOL_TYPES = new Set([
  'NOT_ENOUGH_REPLICAS',
  'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_FOR_PARTITION',
  'NOT_LEADER_OR_FOLLOWER',
  'REQUEST_TIMED_OUT',
  'NETWORK_EXCEPTION',
  'BROKER_NOT_AVAILABLE',
  'NOT_CONTROLLER',
  'KAFKA_STORAGE_ERROR',
  'UNKNOWN_TOPIC_OR_PARTITION',
]);

// @platformatic/kafka's error codes for the same: no connection, no answer in time.
const TRANSIENT_PLATFORMATIC_CODES = new Set(['PLT_KFK_NETWORK', 'PLT_KFK_TIMEOUT']);

function causesOf(error: unknown): unknown[] {
  if (typeof error !== 'object' || error === null) return [];
  const { cause, originalError, errors } = error as { cause?: unknown; originalError?: unknown; errors?: unknown };
  return [cause, originalError, ...(Array.isArray(errors) ? errors : [])].filter((next) => next !== undefined);
}

/** True if `error`, or anything it wraps, is a transient Kafka availability problem. */
export function isKafkaUnavailable(error: unknown, seen = new Set<unknown>()): boolean {
  if (typeof error !== 'object' || error === null || seen.has(error)) return false;
  seen.add(error);
  if (error instanceof KafkaUnavailableError) return true;
  const { name, type, code, apiId } = error as { name?: unknown; type?: unknown; code?: unknown; apiId?: unknown };
  if (typeof name === 'string' && TRANSIENT_ERROR_NAMES.has(name)) return true;
  if (typeof type === 'string' && TRANSIENT_PROTOCOL_TYPES.has(type)) return true;
  // @platformatic/kafka: its own codes, and the broker's error names as `apiId` on a ProtocolError.
  if (typeof code === 'string' && TRANSIENT_PLATFORMATIC_CODES.has(code)) return true;
  if (typeof apiId === 'string' && TRANSIENT_PROTOCOL_TYPES.has(apiId)) return true;
  return causesOf(error).some((cause) => isKafkaUnavailable(cause, seen));
}

/**
 * The message, and for an aggregate (@platformatic/kafka's "initProducerId failed 6 times.") the
 * distinct messages of what it aggregates, so the reason (ECONNREFUSED …) is in the text.
 */
interface ErrorLike {
  message: string;
  code?: unknown;
  cause?: unknown;
  errors?: unknown;
}

/** Duck-typed: errors from Node's core (sockets) come from another realm under jest. */
function errorLike(node: unknown): node is ErrorLike {
  return typeof node === 'object' && node !== null && typeof (node as { message?: unknown }).message === 'string';
}

function withCause(node: unknown): string {
  if (!errorLike(node)) return String(node);
  const { cause } = node;
  if (!errorLike(cause)) return node.message;
  // Node's connection errors can be an AggregateError with an empty message and only a code.
  const detail = [typeof cause.code === 'string' ? cause.code : '', cause.message].filter(Boolean).join(' ');
  return detail && detail !== node.message ? `${node.message} (${detail})` : node.message;
}

/**
 * The message, and for an aggregate (@platformatic/kafka's "initProducerId failed 6 times.") the
 * distinct messages of what it aggregates, so the reason (ECONNREFUSED …) is in the text.
 */
function describeWithCauses(error: unknown): string {
  if (!errorLike(error)) return String(error);
  if (!Array.isArray(error.errors) || error.errors.length === 0) return error.message;
  const leaves = new Set<string>();
  const collect = (node: unknown, depth: number) => {
    const nested = errorLike(node) && Array.isArray(node.errors) ? (node.errors as unknown[]) : [];
    if (nested.length > 0 && depth < 4) nested.forEach((next) => collect(next, depth + 1));
    else leaves.add(withCause(node));
  };
  collect(error, 0);
  return `${error.message}: ${[...leaves].join('; ')}`;
}

/** Wraps transient errors in KafkaUnavailableError (keeping the cause); anything else passes through. */
export function toKafkaUnavailable(error: unknown, what: string): unknown {
  if (error instanceof KafkaUnavailableError || !isKafkaUnavailable(error)) return error;
  const detail = describeWithCauses(error);
  return new KafkaUnavailableError(`${what}: Kafka is unavailable (${detail})`, { cause: error });
}
