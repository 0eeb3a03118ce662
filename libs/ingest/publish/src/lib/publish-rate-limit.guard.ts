/**
 * Publishes per authenticated principal (token `sub`, or whatever identity auth left on the
 * request, API keys included) are rate-limited: a batch counts each of its items, and a caller over
 * the limit gets 429 `rate_limited` with `Retry-After`, before anything reaches Kafka.
 *
 * State is in memory, per ingest-api instance, unless a Redis store is configured
 * (SEQCAST_REDIS_URL): then every instance counts against one shared budget per principal. If
 * Redis cannot answer, each instance falls back to its own in-memory budget (the "insurance"
 * limiter) rather than refusing or waving through every publish.
 */
import { type CanActivate, type ExecutionContext, Inject, Injectable, Optional } from '@nestjs/common';
import { ErrorCode } from '@seqcast/contracts';
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { RateLimitStore } from './rate-limit-store';
import { ApiError } from './api-error';
import { ingestMetrics } from './ingest.metrics';

/** Largest batch the API accepts: the window must hold one, or such a batch could never pass. */
export const MAX_BATCH_ITEMS = 500;

export interface PublishRateLimitOptions {
  /** INGEST_PUBLISH_RATE_PER_SEC: messages per second per principal; 0 turns the limit off. */
  messagesPerSecond: number;
  /** SEQCAST_REDIS_URL: share the budget across instances through this Redis. */
  redisUrl?: string;
}

export const PUBLISH_RATE_LIMIT_OPTIONS = Symbol('PUBLISH_RATE_LIMIT_OPTIONS');
export const RATE_LIMIT_STORE = Symbol('RATE_LIMIT_STORE');

/** The only part of an authenticated request the limiter reads: who is publishing, and how much. */
export interface RateLimitedRequest {
  principal?: { userId: string };
  body?: unknown;
}

/** Items a request publishes: a batch's `messages` length (capped at the batch limit), otherwise 1. */
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

@Injectable()
export class PublishRateLimitGuard implements CanActivate {
  private readonly limiter: RateLimiterAbstract | undefined;

  constructor(
    @Inject(PUBLISH_RATE_LIMIT_OPTIONS) options: PublishRateLimitOptions,
    @Optional() @Inject(RATE_LIMIT_STORE) store?: RateLimitStore,
  ) {
    if (options.messagesPerSecond > 0) {
      const { points, durationSeconds } = windowFor(options.messagesPerSecond);
      const local = new RateLimiterMemory({ keyPrefix: 'publish', points, duration: durationSeconds });
      this.limiter = store?.client
        ? new RateLimiterRedis({
            storeClient: store.client,
            keyPrefix: 'seqcast:publish',
            points,
            duration: durationSeconds,
            // Not connected: answer from the local budget at once instead of queueing the publish.
            rejectIfRedisNotReady: true,
            insuranceLimiter: local,
          })
        : local;
    }
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (!this.limiter) return true;
    const request = context.switchToHttp().getRequest<RateLimitedRequest>();
    // Runs after authentication; without a principal there is nothing to key on (and auth refused it).
    const principal = request.principal?.userId;
    if (principal === undefined) return true;
    try {
      await this.limiter.consume(principal, publishCost(request.body));
      return true;
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      ingestMetrics.limitRejections.inc({ limit: 'publish_rate' });
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
