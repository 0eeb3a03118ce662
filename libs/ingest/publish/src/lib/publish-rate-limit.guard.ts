/**
 * The HTTP entry point's side of the per-principal publish rate limit (@seqcast/publish-core's
 * PublishRateLimiter, shared with the gateway's socket `publish`): runs after authentication, keys
 * on the principal it found, and counts a batch's items. Over the limit: 429 `rate_limited` with
 * `Retry-After`, before anything reaches Kafka.
 */
import { type CanActivate, type ExecutionContext, Inject, Injectable, Optional } from '@nestjs/common';
import {
  publishCost,
  PublishRateLimiter,
  type PublishRateLimitOptions,
  type RateLimitStore,
} from '@seqcast/publish-core';

export { MAX_BATCH_ITEMS, publishCost, type PublishRateLimitOptions, windowFor } from '@seqcast/publish-core';

export const PUBLISH_RATE_LIMIT_OPTIONS = Symbol('PUBLISH_RATE_LIMIT_OPTIONS');
export const RATE_LIMIT_STORE = Symbol('RATE_LIMIT_STORE');

/** The only part of an authenticated request the limiter reads: who is publishing, and how much. */
export interface RateLimitedRequest {
  principal?: { userId: string };
  body?: unknown;
}

@Injectable()
export class PublishRateLimitGuard implements CanActivate {
  private readonly limiter: PublishRateLimiter;

  constructor(
    @Inject(PUBLISH_RATE_LIMIT_OPTIONS) options: PublishRateLimitOptions,
    @Optional() @Inject(RATE_LIMIT_STORE) store?: RateLimitStore,
  ) {
    this.limiter = new PublishRateLimiter(options, store);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<RateLimitedRequest>();
    // Runs after authentication; without a principal there is nothing to key on (and auth refused it).
    const principal = request.principal?.userId;
    if (principal === undefined) return true;
    await this.limiter.consume(principal, publishCost(request.body));
    return true;
  }
}
