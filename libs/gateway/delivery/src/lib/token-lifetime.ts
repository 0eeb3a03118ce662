/**
 * A socket lives no longer than its token (docs/protocol.md "Token lifetime"): `token_expiring`
 * goes out `leadMs` before `exp`, a `refresh` with a new token for the same user moves the deadline
 * (and ends subscriptions the new token no longer grants), and at `exp` without one the socket
 * gets `token_expired` and is disconnected. Subscribes after `exp` are refused by the gateway.
 */
import { canAccessRoom, type Principal, type TokenVerifier } from '@seqcast/auth';
import { ErrorCode, type RefreshAck, refreshRequestSchema, validate } from '@seqcast/contracts';
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

/**
 * One timer for every tracked socket instead of one per socket (a Timeout, its closure and
 * context: ~0.3 KB per idle connection): a min-queue of deadlines, the timer set for the
 * earliest. Entries are not removed when a socket goes or its deadline moves; they are skipped
 * when they come due (they hold no socket by then), and the queue is rebuilt from the live
 * sockets once stale entries outnumber them (connections churning under long-lived tokens).
 */
class DeadlineQueue {
  private readonly dues: number[] = [];
  private readonly entries: Tracked[] = [];

  get size(): number {
    return this.dues.length;
  }

  peek(): number | undefined {
    return this.dues[0];
  }

  push(due: number, entry: Tracked): void {
    let i = this.dues.length;
    this.dues.push(due);
    this.entries.push(entry);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.dues[parent] <= due) break;
      this.move(parent, i);
      i = parent;
    }
    this.dues[i] = due;
    this.entries[i] = entry;
  }

  /** Removes the earliest entry (the caller checked there is one). */
  pop(): { due: number; entry: Tracked } {
    const top = { due: this.dues[0], entry: this.entries[0] };
    const lastDue = this.dues.pop() as number;
    const lastEntry = this.entries.pop() as Tracked;
    const n = this.dues.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        let child = 2 * i + 1;
        if (child >= n) break;
        if (child + 1 < n && this.dues[child + 1] < this.dues[child]) child++;
        if (this.dues[child] >= lastDue) break;
        this.move(child, i);
        i = child;
      }
      this.dues[i] = lastDue;
      this.entries[i] = lastEntry;
    }
    return top;
  }

  private move(from: number, to: number): void {
    this.dues[to] = this.dues[from];
    this.entries[to] = this.entries[from];
  }
}

export class TokenLifetime {
  private readonly tracked = new Map<string, Tracked>();
  private queue = new DeadlineQueue();
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
    const revokedRooms = this.subscriptions.roomsOf(socket.id).filter((roomId) => !canAccessRoom(next, 'subscribe', roomId));
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
    this.queue.push(entry.due, entry);
    this.compact();
    this.arm();
  }

  /** Rebuilds the queue from the live sockets once stale entries outnumber them. */
  private compact(): void {
    if (this.queue.size <= 2 * this.tracked.size + STALE_SLACK) return;
    this.queue = new DeadlineQueue();
    for (const entry of this.tracked.values()) if (entry.due !== Infinity) this.queue.push(entry.due, entry);
    this.arm();
  }

  /** Sets the one timer for the earliest deadline, unless it already fires by then. */
  private arm(): void {
    const next = this.queue.peek();
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
    for (let next = this.queue.peek(); next !== undefined && next <= now; next = this.queue.peek()) {
      const { due, entry } = this.queue.pop();
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
