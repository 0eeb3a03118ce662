/** The env variable names every service shares: these names are the product's public config surface. */
import { ConfigValidationError } from './config-validation-error';
import { databaseTlsEnv } from './database-tls';
import { envField } from './env-field';
import { kafkaSecurityEnv } from './kafka-security';

export const commonEnv = {
  NODE_ENV: envField.enumOf(['development', 'production', 'test'] as const, 'development'),
  LOG_LEVEL: envField.enumOf(['error', 'warn', 'log', 'debug', 'verbose'] as const, 'log'),
};

export const kafkaEnv = {
  KAFKA_BROKERS: envField.list(['127.0.0.1:9092']),
  KAFKA_CLIENT_ID: envField.string(),
  // The client library under the consumers and producers (@seqcast/kafka); admin work is kafkajs either way.
  KAFKA_CLIENT: envField.enumOf(['kafkajs', 'platformatic'] as const, 'platformatic'),
  SEQCAST_MESSAGES_TOPIC: envField.string('seqcast.messages'),
  SEQCAST_EVENTS_TOPIC: envField.string('seqcast.events'),
  SEQCAST_PARTITIONS: envField.int({ default: 12, min: 1, max: 10000 }),
  // Applied when a service creates a missing topic and compared with existing ones (see ensureTopics);
  // 1 suits a single dev broker.
  SEQCAST_REPLICATION_FACTOR: envField.int({ default: 1, min: 1, max: 32 }),
  // TLS, SASL and SEQCAST_MIN_INSYNC_REPLICAS (see resolveKafkaSecurity).
  ...kafkaSecurityEnv,
};

export const databaseEnv = {
  DATABASE_URL: envField.postgresUrl('postgres://postgres@127.0.0.1:5432/seqcast'),
  DATABASE_RUN_MIGRATIONS: envField.bool(true),
  // DATABASE_SSL, DATABASE_SSL_CA_FILE (see resolveDatabaseTls).
  ...databaseTlsEnv,
};

/** How tokens are verified; exactly one of the three key sources (see resolveAuthSettings). */
export const authEnv = {
  SEQCAST_JWT_SECRET: envField.string(),
  SEQCAST_JWT_JWKS_URL: envField.string(),
  SEQCAST_JWT_PUBLIC_KEY_FILE: envField.string(),
  SEQCAST_JWT_ALGORITHMS: envField.optionalList(),
  SEQCAST_JWT_ISSUER: envField.string(),
  SEQCAST_JWT_AUDIENCE: envField.optionalList(),
  SEQCAST_JWT_CLOCK_TOLERANCE_S: envField.int({ default: 30, min: 0, max: 300 }),
  SEQCAST_AUTH_TOKEN_CACHE_SIZE: envField.int({ default: 10_000, min: 0, max: 1_000_000 }),
};

export const DEV_JWT_SECRET = 'seqcast-dev-secret-do-not-use-in-production';

/**
 * Development gets a well-known secret so local tools work out of the box; production must never
 * run on it, because anyone could mint tokens with a secret published in the source.
 */
export function resolveJwtSecret(nodeEnv: string, secret: string | undefined): string {
  const provided = secret?.trim() ? secret : undefined;
  if (nodeEnv === 'production') {
    if (provided === undefined) {
      throw new ConfigValidationError(['SEQCAST_JWT_SECRET: required when NODE_ENV=production']);
    }
    if (provided === DEV_JWT_SECRET) {
      throw new ConfigValidationError([
        'SEQCAST_JWT_SECRET: must not be the published development secret when NODE_ENV=production',
      ]);
    }
  }
  return provided ?? DEV_JWT_SECRET;
}
