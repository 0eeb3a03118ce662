/**
 * Per-socket limits on subscriptions: how many rooms one socket may hold, and how many
 * subscribe/unsubscribe requests it may make per minute (churn: each subscribe may read history,
 * so unbounded churn is a cheap way to load PostgreSQL). Per socket, hence per instance by nature.
 * Refusals are failed acks (`limit_exceeded`, `rate_limited`); the socket stays connected.
 */
import { ErrorCode, type Failed } from '@seqcast/contracts';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { limitRejections } from './limits.metrics';

export interface SubscriptionLimitOptions {
  /** GATEWAY_MAX_SUBSCRIPTIONS_PER_SOCKET; 0: no limit. */
  maxPerSocket: number;
  /** GATEWAY_SUBSCRIBE_OPS_PER_MINUTE: subscribe + unsubscribe requests per socket; 0: no limit. */
  opsPerMinute: number;
}

export class SubscriptionLimits {
  private readonly rooms = new Map<string, Set<string>>();
  private readonly churn: RateLimiterMemory | undefined;

  constructor(private readonly options: SubscriptionLimitOptions) {
    if (options.opsPerMinute > 0) {
      // A reconnecting client resubscribes every room at once: the budget always covers a full set.
      const points = Math.max(options.opsPerMinute, options.maxPerSocket);
      this.churn = new RateLimiterMemory({ keyPrefix: 'churn', points, duration: 60 });
    }
  }

  /** Spends one subscribe/unsubscribe request of the socket's budget; a Failed when it is spent. */
  async spend(socketId: string): Promise<Failed | undefined> {
    if (!this.churn) return undefined;
    try {
      await this.churn.consume(socketId);
      return undefined;
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      limitRejections.inc({ limit: 'subscribe_churn' });
      const seconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      return failed(
        ErrorCode.RateLimited,
        `more than ${this.churn.points} subscribe/unsubscribe requests per minute on this socket; retry in ${seconds} s`,
      );
    }
  }

  /**
   * Takes a slot for the room before the subscribe runs (so concurrent subscribes cannot overshoot);
   * a room the socket already holds (or is subscribing to) needs no new slot.
   */
  reserve(socketId: string, roomId: string): Failed | undefined {
    let held = this.rooms.get(socketId);
    if (held?.has(roomId)) return undefined;
    if (this.options.maxPerSocket > 0 && (held?.size ?? 0) >= this.options.maxPerSocket) {
      limitRejections.inc({ limit: 'subscriptions_per_socket' });
      return failed(
        ErrorCode.LimitExceeded,
        `this socket already holds the maximum of ${this.options.maxPerSocket} subscriptions; unsubscribe first`,
      );
    }
    if (!held) this.rooms.set(socketId, (held = new Set()));
    held.add(roomId);
    return undefined;
  }

  /** The subscribe failed, or the room was unsubscribed: its slot is free again. */
  release(socketId: string, roomId: string): void {
    const held = this.rooms.get(socketId);
    held?.delete(roomId);
    if (held?.size === 0) this.rooms.delete(socketId);
  }

  /** The socket is gone: all its slots (its churn budget simply expires). */
  forget(socketId: string): void {
    this.rooms.delete(socketId);
    void this.churn?.delete(socketId);
  }

  heldBy(socketId: string): number {
    return this.rooms.get(socketId)?.size ?? 0;
  }
}

function failed(code: ErrorCode, message: string): Failed {
  return { ok: false, error: { code, message } };
}
