// Public API of @seqcast/publish-core: the write path every publish entry point shares (HTTP on
// ingest-api, the socket `publish` event on edge-gateway): authorization, idempotency, the
// per-principal rate limit and the producer call, independent of the transport.
export { type AcceptedCopy, cacheKey, type CacheEntry, IdempotencyCache } from './lib/idempotency-cache';
export { type PublishFailure, publishFailureOf } from './lib/publish-failure';
export { publishMetrics } from './lib/publish.metrics';
export {
  MAX_BATCH_ITEMS,
  publishCost,
  PublishRateLimiter,
  type PublishRateLimitOptions,
  windowFor,
} from './lib/publish-rate-limiter';
export {
  buildIngestRecord,
  type Clock,
  DEFAULT_IDEMPOTENCY_CACHE_SIZE,
  type OutgoingMessage,
  type PublisherOptions,
  type RecordProducer,
  type StoredSeqReader,
} from './lib/publish-types';
export { Publisher } from './lib/publisher';
export { RateLimitStore } from './lib/rate-limit-store';
