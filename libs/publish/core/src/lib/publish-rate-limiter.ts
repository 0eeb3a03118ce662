/**
 * Publishes per authenticated principal (token `sub`, or an API key's identity) are rate-limited,
 * whichever entry point they come through: a batch counts each of its items, and a principal over
 * the limit is refused `rate_limited` (ApiError 429 with the seconds to wait) before anything
 * reaches Kafka.
 *
 * State is in memory, per instance, unless a Redis store is configured (SEQCAST_REDIS_URL): then
 * every instance (ingest-api and edge-gateway alike) counts against one shared budget per
 * principal. If Redis cannot answer, each instance falls back to its own in-memory budget (the
 * "insurance" limiter) rather than refusing or waving through every publish.
 */
import { ErrorCode } from '@seqcast/contracts';
import { ApiError } from '@seqcast/http-api';
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { publishMetrics } from './publish.metrics';
import type { RateLimitStore } from './rate-limit-store';

/** Largest batch the API accepts: the window must hold one, or such a batch could never pass. */
export const MAX_BATCH_ITEMS = 500;

export interface PublishRateLimitOptions {
  /** INGEST_PUBLISH_RATE_PER_SEC: messages per second per principal; 0 turns the limit off. */
  messagesPerSecond: number;
  /** SEQCAST_REDIS_URL: share the budget across instances through this Redis. */
  redisUrl?: string;
}

/** Items a request body publishes: a batch's `messages` length (capped at the batch limit), otherwise 1. */
export function publishCost(body: unknown): number {
  const messages = (body as { messages?: unknown } | undefined)?.messages;
  if (Array.isArray(messages)) return Math.min(Math.max(messages.length, 1), MAX_BATCH_ITEMS);
  return 1;
}

/**
 * Points are averaged over a window long enough to hold the largest batch: at 100 messages/s the
 * window is 5 s of 500 points, so one full batch passes and the next waits.
 */
export function windowFor(messagesPerSecond: number): { points: number; durationSeconds: number } {
  const durationSeconds = Math.max(1, Math.ceil(MAX_BATCH_ITEMS / messagesPerSecond));
  return { points: messagesPerSecond * durationSeconds, durationSeconds };
}

export class PublishRateLimiter {
  private readonly limiter: RateLimiterAbstract | undefined;

  constructor(options: PublishRateLimitOptions, store?: RateLimitStore) {
    if (options.messagesPerSecond <= 0) return;
    const { points, durationSeconds } = windowFor(options.messagesPerSecond);
    const local = new RateLimiterMemory({ keyPrefix: 'publish', points, duration: durationSeconds });
    this.limiter = store?.client
      ? new RateLimiterRedis({
          storeClient: store.client,
          // One key space for every entry point: a principal's budget is the same over HTTP and sockets.
          keyPrefix: 'seqcast:publish',
          points,
          duration: durationSeconds,
          // Not connected: answer from the local budget at once instead of queueing the publish.
          rejectIfRedisNotReady: true,
          insuranceLimiter: local,
        })
      : local;
  }

  /** Spends `cost` of the principal's budget, or throws ApiError 429 `rate_limited` with the seconds to wait. */
  async consume(principalId: string, cost: number): Promise<void> {
    if (!this.limiter) return;
    try {
      await this.limiter.consume(principalId, cost);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      publishMetrics.limitRejections.inc({ limit: 'publish_rate' });
      const retryAfterSeconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      throw new ApiError(
        429,
        ErrorCode.RateLimited,
        `publish rate limit exceeded for this credential (${this.limiter.points} messages per ${this.limiter.duration} s); retry after ${retryAfterSeconds} s`,
        retryAfterSeconds,
      );
    }
  }
}
