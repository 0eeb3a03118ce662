/**
 * Per-socket limits on subscriptions: how many rooms one socket may hold, and how many
 * subscribe/unsubscribe requests it may make per minute (churn: each subscribe may read history,
 * so unbounded churn is a cheap way to load PostgreSQL). Per socket, hence per instance by nature.
 * Refusals are failed acks (`limit_exceeded`, `rate_limited`); the socket stays connected.
 */
import { ErrorCode, type Failed } from '@seqcast/contracts';
import { limitRejections } from './limits.metrics';

export interface SubscriptionLimitOptions {
  /** GATEWAY_MAX_SUBSCRIPTIONS_PER_SOCKET; 0: no limit. */
  maxPerSocket: number;
  /** GATEWAY_SUBSCRIBE_OPS_PER_MINUTE: subscribe + unsubscribe requests per socket; 0: no limit. */
  opsPerMinute: number;
}

const WINDOW_MS = 60_000;

/** One socket's slots and churn budget. */
interface SocketLimits {
  /** Rooms held or being subscribed to (only with a per-socket limit). */
  rooms: Set<string> | undefined;
  /** The current one-minute window: when it ends, and the requests spent in it. */
  windowEndsAt: number;
  spent: number;
}

export class SubscriptionLimits {
  private readonly sockets = new Map<string, SocketLimits>();
  /** Requests per window: a reconnecting client resubscribes every room at once, so the budget always covers a full set. */
  private readonly points: number;

  constructor(
    private readonly options: SubscriptionLimitOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.points = options.opsPerMinute > 0 ? Math.max(options.opsPerMinute, options.maxPerSocket) : 0;
  }

  /**
   * Spends one subscribe/unsubscribe request of the socket's budget; a Failed when it is spent.
   * A fixed one-minute window from the socket's first request, as rate-limiter-flexible's memory
   * limiter counts it, but kept on the socket's own entry: no timer and no record per socket
   * (the library's costs ~0.4 KB for a minute after each socket's subscribe).
   */
  spend(socketId: string): Failed | undefined {
    if (this.points === 0) return undefined;
    const now = this.now();
    const limits = this.entry(socketId);
    if (now >= limits.windowEndsAt) {
      limits.windowEndsAt = now + WINDOW_MS;
      limits.spent = 0;
    }
    limits.spent++;
    if (limits.spent <= this.points) return undefined;
    limitRejections.inc({ limit: 'subscribe_churn' });
    const seconds = Math.max(1, Math.ceil((limits.windowEndsAt - now) / 1000));
    return failed(
      ErrorCode.RateLimited,
      `more than ${this.points} subscribe/unsubscribe requests per minute on this socket; retry in ${seconds} s`,
    );
  }

  /**
   * Takes a slot for the room before the subscribe runs (so concurrent subscribes cannot overshoot);
   * a room the socket already holds (or is subscribing to) needs no new slot.
   */
  reserve(socketId: string, roomId: string): Failed | undefined {
    if (this.options.maxPerSocket <= 0) return undefined;
    const limits = this.entry(socketId);
    const held = (limits.rooms ??= new Set());
    if (held.has(roomId)) return undefined;
    if (held.size >= this.options.maxPerSocket) {
      limitRejections.inc({ limit: 'subscriptions_per_socket' });
      return failed(
        ErrorCode.LimitExceeded,
        `this socket already holds the maximum of ${this.options.maxPerSocket} subscriptions; unsubscribe first`,
      );
    }
    held.add(roomId);
    return undefined;
  }

  /** The subscribe failed, or the room was unsubscribed: its slot is free again. */
  release(socketId: string, roomId: string): void {
    this.sockets.get(socketId)?.rooms?.delete(roomId);
  }

  /** The socket is gone: its slots and its budget. */
  forget(socketId: string): void {
    this.sockets.delete(socketId);
  }

  heldBy(socketId: string): number {
    return this.sockets.get(socketId)?.rooms?.size ?? 0;
  }

  private entry(socketId: string): SocketLimits {
    let limits = this.sockets.get(socketId);
    if (!limits) {
      limits = { rooms: undefined, windowEndsAt: 0, spent: 0 };
      this.sockets.set(socketId, limits);
    }
    return limits;
  }
}

function failed(code: ErrorCode, message: string): Failed {
  return { ok: false, error: { code, message } };
}
