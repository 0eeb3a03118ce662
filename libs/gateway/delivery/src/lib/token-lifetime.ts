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
  timer?: NodeJS.Timeout;
  warned: boolean;
}

export class TokenLifetime {
  private readonly tracked = new Map<string, Tracked>();

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
    this.tracked.set(socket.id, { warned: false });
    this.step(socket);
  }

  /** The socket is gone: drop its timer. */
  forget(socketId: string): void {
    const entry = this.tracked.get(socketId);
    if (entry?.timer) clearTimeout(entry.timer);
    this.tracked.delete(socketId);
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

  /** Warns or expires what is due now, then sleeps until the next deadline. */
  private step(socket: LifetimeSocket): void {
    const entry = this.tracked.get(socket.id);
    if (!entry) return;
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = undefined;
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
    const next = entry.warned ? expiresAt.getTime() : warnAt;
    entry.timer = setTimeout(() => this.step(socket), Math.min(Math.max(next - now, 0), MAX_TIMER_MS));
    // Never what keeps the process alive: drain and shutdown close sockets themselves.
    entry.timer.unref();
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
