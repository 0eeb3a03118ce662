/**
 * Broker answers that no amount of waiting fixes because the deployment's settings are wrong:
 * rejected credentials, an untrusted certificate, a replication factor the cluster cannot hold, an
 * existing topic less durable than configured. Start-up reports them once, naming the variables to
 * change, instead of retrying as if the broker were merely down.
 */
export class KafkaConfigurationError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KafkaConfigurationError';
  }
}

/** Node's codes for a certificate the client does not trust or that names another host. */
const TLS_VERIFY_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

function* chain(error: unknown, seen = new Set<unknown>()): Generator<Record<string, unknown>> {
  if (typeof error !== 'object' || error === null || seen.has(error)) return;
  seen.add(error);
  const entry = error as Record<string, unknown>;
  yield entry;
  for (const next of [
    entry['cause'],
    entry['originalError'],
    ...(Array.isArray(entry['errors']) ? entry['errors'] : []),
  ]) {
    yield* chain(next, seen);
  }
}

function messageOf(entry: Record<string, unknown>): string {
  return typeof entry['message'] === 'string' ? entry['message'] : String(entry);
}

/**
 * The configuration mistake behind a kafkajs error (anywhere in its cause chain), as an error
 * naming the variables to fix; undefined when the error is anything else.
 */
export function explainKafkaConfigurationError(error: unknown): KafkaConfigurationError | undefined {
  if (error instanceof KafkaConfigurationError) return error;
  for (const entry of chain(error)) {
    if (entry['name'] === 'KafkaJSSASLAuthenticationError') {
      return new KafkaConfigurationError(
        `Kafka refused the SASL credentials (${messageOf(entry)}): check KAFKA_SASL_USERNAME, ` +
          'KAFKA_SASL_PASSWORD (or KAFKA_SASL_PASSWORD_FILE) and KAFKA_SASL_MECHANISM',
        { cause: error },
      );
    }
    if (typeof entry['code'] === 'string' && TLS_VERIFY_CODES.has(entry['code'])) {
      return new KafkaConfigurationError(
        `Kafka's TLS certificate was not accepted (${messageOf(entry)}): set KAFKA_SSL_CA_FILE to the CA that ` +
          "signed the brokers' certificates, and use host names in KAFKA_BROKERS that the certificates carry",
        { cause: error },
      );
    }
    if (entry['type'] === 'INVALID_REPLICATION_FACTOR') {
      return new KafkaConfigurationError(
        `Kafka cannot create the topics with the configured replication factor (${messageOf(entry)}): ` +
          'lower SEQCAST_REPLICATION_FACTOR to at most the number of brokers',
        { cause: error },
      );
    }
    if (entry['type'] === 'TOPIC_AUTHORIZATION_FAILED' || entry['type'] === 'CLUSTER_AUTHORIZATION_FAILED') {
      return new KafkaConfigurationError(
        `Kafka denied the user in KAFKA_SASL_USERNAME access (${messageOf(entry)}): grant it the ACLs listed ` +
          'in SECURITY.md',
        { cause: error },
      );
    }
  }
  return undefined;
}
