/** ingest-api's own variables (env group `ingest-api`); it also reads common, kafka, database, auth and origins. */
import { envField } from '../env-field';
import { managementEnv } from '../management';

/**
 * Kafka's default max.message.bytes is ~1 MB and a single-message body becomes a single record,
 * so a larger body limit would only move the failure from a clear 413 to an opaque broker error.
 */
export const INGEST_MAX_BODY_CEILING = 1_048_576;

export const ingestApiEnv = {
  PORT: envField.port(3000),
  ...managementEnv(9000),
  HOST: envField.string('0.0.0.0'),
  INGEST_MAX_BODY_BYTES: envField.int({ default: 65_536, min: 1_024, max: INGEST_MAX_BODY_CEILING }),
  // Above the producer's 10 s send deadline, so a request in flight at SIGTERM gets its answer;
  // below Kubernetes' default 30 s grace period, so the forced exit is ours and logged.
  INGEST_SHUTDOWN_TIMEOUT_MS: envField.int({ default: 15_000, min: 1_000, max: 600_000 }),
  // How long an API key lookup is reused: a revoked key keeps working at most this long per instance.
  SEQCAST_API_KEY_CACHE_TTL_MS: envField.int({ default: 30_000, min: 1_000, max: 300_000 }),
  /** Messages per second per principal (token `sub` / API key), batch items counted; 0: no limit. Per instance. */
  INGEST_PUBLISH_RATE_PER_SEC: envField.int({ default: 500, min: 0, max: 1_000_000 }),
  /** Share the publish rate limit across instances through this Redis (`redis://` or `rediss://`); unset: per instance. */
  SEQCAST_REDIS_URL: envField
    .string()
    .refine((url) => url === undefined || /^rediss?:\/\/[^\s]+$/.test(url), 'must be a redis:// or rediss:// URL'),
};
