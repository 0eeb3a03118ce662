/**
 * A socket lives no longer than its token (docs/protocol.md "Token lifetime"): `token_expiring`
 * goes out `leadMs` before `exp`, a `refresh` with a new token for the same user moves the deadline
 * (and ends subscriptions the new token no longer grants), and at `exp` without one the socket
 * gets `token_expired` and is disconnected. Subscribes after `exp` are refused by the gateway.
 */
import { canAccessRoom, type Principal, type TokenVerifier } from '@seqcast/auth';
import { ErrorCode, type RefreshAck, refreshRequestSchema, validate } from '@seqcast/contracts';
import { Heap } from 'heap-js';
import type { GatewaySocketData } from './socket-types';

/** setTimeout's ceiling (~24.8 days); longer deadlines are reached in several hops. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Stale queue entries tolerated beyond the live ones before the queue is rebuilt. */
const STALE_SLACK = 64;

export interface TokenLifetimeOptions {
  /** GATEWAY_TOKEN_REFRESH_LEAD_MS: how long before `exp` the client is asked for a new token. */
  leadMs: number;
}

/** The slice of a Socket.IO socket this touches (keeps it testable without a server). */
export interface LifetimeSocket {
  id: string;
  data: GatewaySocketData;
  connected: boolean;
  emit(event: 'token_expiring', payload: { expiresAt: string }): unknown;
  emit(event: 'token_expired', payload: { expiredAt: string }): unknown;
  emit(event: 'unsubscribed', payload: { roomId: string; reason: 'access_revoked' }): unknown;
  disconnect(close: boolean): unknown;
}

/** What the lifetime needs of the subscriptions: the socket's rooms, and ending one. */
export interface SubscriptionControl {
  roomsOf(socketId: string): string[];
  end(socket: LifetimeSocket, roomId: string): void;
}

interface Tracked {
  /** Cleared when the socket is forgotten, so a stale queue entry never keeps it alive. */
  socket: LifetimeSocket | undefined;
  warned: boolean;
  /** When this socket is next due (warning or expiry); queue entries with another time are stale. */
  due: number;
}

/** A deadline in the queue; stale once the socket's `due` differs from it (see TokenLifetime). */
interface QueuedDeadline {
  due: number;
  entry: Tracked;
}

/**
 * One timer for every tracked socket instead of one per socket (a Timeout, its closure and
 * context: ~0.3 KB per idle connection): a min-heap of deadlines, the timer set for the
 * earliest. Entries are not removed when a socket goes or its deadline moves; they are skipped
 * when they come due (they hold no socket by then), and the heap is rebuilt from the live
 * sockets once stale entries outnumber them (connections churning under long-lived tokens).
 */
function deadlineQueue(): Heap<QueuedDeadline> {
  return new Heap<QueuedDeadline>((a, b) => a.due - b.due);
}

export class TokenLifetime {
  private readonly tracked = new Map<string, Tracked>();
  private queue = deadlineQueue();
  private timer: NodeJS.Timeout | undefined;
  /** When the timer fires (it may be set short of the earliest deadline: setTimeout's ceiling). */
  private timerAt = Infinity;

  constructor(
    private readonly verifier: Pick<TokenVerifier, 'verify'>,
    private readonly subscriptions: SubscriptionControl,
    private readonly options: TokenLifetimeOptions,
    private readonly hooks: { expired?: (socket: LifetimeSocket) => void } = {},
    private readonly now: () => number = Date.now,
  ) {}

  get trackedSockets(): number {
    return this.tracked.size;
  }

  /** True once the socket's token is past `exp` (the timer may not have fired yet under load). */
  expired(principal: Principal | undefined): boolean {
    return !principal?.expiresAt || principal.expiresAt.getTime() <= this.now();
  }

  /** Starts the clock for a connected socket. */
  track(socket: LifetimeSocket): void {
    this.tracked.set(socket.id, { socket, warned: false, due: Infinity });
    this.step(socket);
  }

  /** The socket is gone: nothing more is due for it. */
  forget(socketId: string): void {
    const entry = this.tracked.get(socketId);
    if (entry) {
      entry.socket = undefined;
      entry.due = Infinity;
    }
    this.tracked.delete(socketId);
    this.compact();
  }

  /** Answers a `refresh` request. A failed refresh changes nothing: the old deadline still holds. */
  async refresh(socket: LifetimeSocket, body: unknown): Promise<RefreshAck> {
    const request = validate(refreshRequestSchema, body);
    if (!request.ok) return failed(ErrorCode.InvalidRequest, request.message);
    const current = socket.data.principal;
    let next: Principal;
    try {
      next = await this.verifier.verify(request.value.token);
    } catch (error) {
      return failed(ErrorCode.Unauthorized, error instanceof Error ? error.message : 'invalid token');
    }
    // A socket is one user's session; a token for someone else would be a silent identity swap.
    if (!current || next.userId !== current.userId) {
      return failed(ErrorCode.Unauthorized, 'the new token is for another user');
    }
    if (!socket.connected || !this.tracked.has(socket.id)) return failed(ErrorCode.Unauthorized, 'socket closed');
    // Warn again only for a later deadline: re-sending the same token must not loop warn → refresh.
    const later = (next.expiresAt?.getTime() ?? 0) > (current.expiresAt?.getTime() ?? 0);
    socket.data.principal = next;
    const revokedRooms = this.subscriptions
      .roomsOf(socket.id)
      .filter((roomId) => !canAccessRoom(next, 'subscribe', roomId));
    for (const roomId of revokedRooms) {
      this.subscriptions.end(socket, roomId);
      socket.emit('unsubscribed', { roomId, reason: 'access_revoked' });
    }
    const entry = this.tracked.get(socket.id);
    if (entry) {
      if (later) entry.warned = false;
      this.step(socket);
    }
    return { ok: true, expiresAt: (next.expiresAt as Date).toISOString(), revokedRooms };
  }

  /** Warns or expires what is due now for the socket, then queues its next deadline. */
  private step(socket: LifetimeSocket): void {
    const entry = this.tracked.get(socket.id);
    if (!entry) return;
    entry.due = Infinity;
    const expiresAt = socket.data.principal?.expiresAt;
    const now = this.now();
    if (!expiresAt || expiresAt.getTime() <= now) {
      this.expire(socket, expiresAt ?? new Date(now));
      return;
    }
    const warnAt = expiresAt.getTime() - this.options.leadMs;
    if (!entry.warned && now >= warnAt) {
      entry.warned = true;
      socket.emit('token_expiring', { expiresAt: expiresAt.toISOString() });
    }
    entry.due = entry.warned ? expiresAt.getTime() : warnAt;
    this.queue.push({ due: entry.due, entry });
    this.compact();
    this.arm();
  }

  /** Rebuilds the queue from the live sockets once stale entries outnumber them. */
  private compact(): void {
    if (this.queue.length <= 2 * this.tracked.size + STALE_SLACK) return;
    this.queue = deadlineQueue();
    for (const entry of this.tracked.values()) if (entry.due !== Infinity) this.queue.push({ due: entry.due, entry });
    this.arm();
  }

  /** Sets the one timer for the earliest deadline, unless it already fires by then. */
  private arm(): void {
    const next = this.queue.peek()?.due;
    if (next === undefined || this.tracked.size === 0) return this.clearTimer();
    if (this.timer && this.timerAt <= next) return;
    this.clearTimer();
    const delay = Math.min(Math.max(next - this.now(), 0), MAX_TIMER_MS);
    this.timerAt = this.now() + delay;
    this.timer = setTimeout(() => this.onTimer(), delay);
    // Never what keeps the process alive: drain and shutdown close sockets themselves.
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  private onTimer(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = this.now();
    for (let next = this.queue.peek(); next !== undefined && next.due <= now; next = this.queue.peek()) {
      const { due, entry } = this.queue.pop() as QueuedDeadline;
      // Stale: the socket went, or its deadline moved (a refresh, an earlier step).
      if (entry.socket && entry.due === due) this.step(entry.socket);
    }
    this.arm();
  }

  private expire(socket: LifetimeSocket, expiredAt: Date): void {
    this.forget(socket.id);
    if (!socket.connected) return;
    socket.data.closeReason = 'token_expired';
    this.hooks.expired?.(socket);
    socket.emit('token_expired', { expiredAt: expiredAt.toISOString() });
    socket.disconnect(true);
  }
}

function failed(code: ErrorCode, message: string): RefreshAck {
  return { ok: false, error: { code, message } };
}
