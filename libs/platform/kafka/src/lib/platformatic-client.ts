/**
 * The @platformatic/kafka side of KAFKA_CLIENT=platformatic: connection options built from the same
 * KafkaSettings (brokers, client id, TLS, SASL) and the same bounded timeouts as the kafkajs client
 * of createKafka.
 */
import type { BaseOptions } from '@platformatic/kafka';
import { CONNECTION_TIMEOUT_MS, type KafkaSettings, REQUEST_TIMEOUT_MS } from './kafka-client';
import { platformaticSecurityOptions } from './stale-member-remover';

/** Retries inside one operation (connect, metadata, fetch, join); callers add their own deadlines on top. */
const RETRIES = 5;
const RETRY_DELAY_MS = 300;

export function platformaticBaseOptions(settings: KafkaSettings, clientIdSuffix = ''): BaseOptions {
  return {
    clientId: `${settings.clientId}${clientIdSuffix}`,
    bootstrapBrokers: settings.brokers,
    ...platformaticSecurityOptions(settings),
    connectTimeout: CONNECTION_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    timeout: REQUEST_TIMEOUT_MS,
    retries: RETRIES,
    retryDelay: RETRY_DELAY_MS,
  };
}

let loading: Promise<typeof import('@platformatic/kafka')> | undefined;

/**
 * The library, loaded once on first use (a kafkajs-only process never loads it). Callers with a
 * deadline for Kafka load it before the clock starts: loading a module is not the broker being slow.
 */
export function loadPlatformaticKafka(): Promise<typeof import('@platformatic/kafka')> {
  loading ??= import('@platformatic/kafka');
  return loading;
}
