/**
 * The connection state machine (socket.io-client's Manager, centrifuge-js' Centrifuge): one
 * transport at a time to the gateway, its lifecycle (connecting → connected → reconnecting with
 * backoff → failed, or closed), server-announced restarts and token refresh. What rides on the
 * connection (subscriptions, acks) is told through `ConnectionHooks`.
 */
import type { MessagesEvent, PresenceChangeEvent, ServerBusyData } from '@seqcast/contracts/wire';
import { backoffDelay } from './backoff';
import type { ConnectionState, ReconnectOptions, SeqcastClientOptions, StateDetail } from './client-options';
import type { Emit } from './client-events';
import { describeError, SeqcastError } from './seqcast-error';
import type { TokenProvider } from './token-source';
import type { Transport, TransportFactory } from './transport';

/**
 * After `server_restart { reconnectInMs }` the gateway disconnects us within reconnectInMs plus
 * a short grace; a connection still open this much later is replaced by the client itself.
 */
export const SERVER_RESTART_FALLBACK_MS = 2_000;

/** socket.io-client's own default for `timeout` (the connect attempt), used unless socketOptions set one. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 20_000;

/**
 * After consecutive connect attempts that timed out, the next one waits up to this many times the
 * connect timeout (doubling: 1×, 2×, 4×). A gateway that answers no handshake within the timeout is
 * almost always one with a queue of them (a restart storm on a busy instance): an attempt given up
 * loses its place in that queue and leaves the gateway a dead connection to accept and handshake
 * anyway, so giving up again at the same moment only makes the queue longer for everyone.
 */
export const MAX_CONNECT_TIMEOUT_FACTOR = 4;

/**
 * `server_busy { retryAfterMs }` (docs/protocol.md): the next attempt waits the hint plus up to this
 * fraction of it more, so clients handed the same moment do not come back in the same millisecond.
 */
export const SERVER_BUSY_JITTER = 0.25;

/** The gateway's connect_error when it admits no more handshakes now (SERVER_BUSY_CONNECT_ERROR). */
const SERVER_BUSY = 'server_busy';

/** retryAfterMs beyond this is treated as this: the gateway's own bound is 30 s. */
const MAX_BUSY_HINT_MS = 5 * 60 * 1000;

/** reconnectInMs beyond this is treated as this (a day): a hint, not a reason to wait forever. */
const MAX_RESTART_HINT_MS = 24 * 60 * 60 * 1000;

type Timer = ReturnType<typeof setTimeout>;

/** What the connection tells the rest of the client. */
export interface ConnectionHooks {
  /** A transport is connected (state `connected`): resubscribe. */
  connected(): void;
  /** The transport is being dropped: whatever it carried is void. */
  dropped(): void;
  /** Gave up reconnecting (state `failed`). */
  failed(reason: string): void;
  messages(event: MessagesEvent): void;
  /** The gateway ended a subscription. */
  revoked(roomId: string, reason: string): void;
  /** presence_join / presence_leave in a room subscribed with presence (./presence.ts). */
  presenceChange(type: 'join' | 'leave', event: PresenceChangeEvent): void;
}

export interface ConnectionOptions {
  gatewayUrl: string;
  socketOptions: SeqcastClientOptions['socketOptions'];
  reconnect: Required<ReconnectOptions>;
  random: () => number;
  token: TokenProvider;
  transportFactory: TransportFactory;
  emit: Emit;
}

export class Connection {
  private _state: ConnectionState = 'idle';
  private _transport: Transport | undefined;
  /** Bumped whenever the current transport is replaced or dropped; handlers of older ones are ignored. */
  private _generation = 0;
  private failures = 0;
  /** Consecutive connect attempts that ended in socket.io's connect `timeout`; the next one waits longer. */
  private connectTimeouts = 0;
  private reconnectTimer: Timer | undefined;
  /** The current connection was told `server_restart`: its end is expected, and replaced at once. */
  private restartNotified = false;
  /** The gateway sent `token_expired`: the disconnect that follows is answered by reconnecting at once. */
  private tokenExpired = false;
  /** Replaces the current connection if the draining gateway has not closed it in time. */
  private restartTimer: Timer | undefined;
  /** Set once, by the client, before the first connect. */
  hooks!: ConnectionHooks;

  constructor(private readonly options: ConnectionOptions) {}

  get state(): ConnectionState {
    return this._state;
  }

  /** The connected (or connecting) transport, if any. */
  get transport(): Transport | undefined {
    return this._transport;
  }

  /** Numbers the current transport; work started under an older one is stale. */
  get generation(): number {
    return this._generation;
  }

  /** The transport when connected, else undefined. */
  get live(): Transport | undefined {
    return this._state === 'connected' ? this._transport : undefined;
  }

  /** Starts connecting (again, after `failed` or `closed`); a no-op while connecting or connected. */
  connect(): void {
    if (this._state === 'connecting' || this._state === 'connected' || this._state === 'reconnecting') return;
    this.failures = 0;
    this.connectTimeouts = 0;
    this.setState('connecting');
    void this.open();
  }

  /** Drops the transport and stops reconnecting; `beforeClosed` runs before the state says so. */
  close(beforeClosed: () => void): void {
    clearTimer(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.drop();
    beforeClosed();
    this.setState('closed');
  }

  /** An attempt failed or an established connection broke: counted, backed off, maybe terminal. */
  lost(reason: string): void {
    this.drop();
    this.failures++;
    if (this.failures > this.options.reconnect.maxRetries) {
      this.fail(reason);
      return;
    }
    const delayMs = backoffDelay(this.failures - 1, this.options.reconnect, this.options.random);
    this.scheduleOpen(delayMs, { attempt: this.failures, delayMs, reason });
  }

  private async open(): Promise<void> {
    const generation = ++this._generation;
    let token: string;
    try {
      token = await this.options.token.resolve();
    } catch (error) {
      if (generation !== this._generation) return;
      this.options.emit('error', asSeqcastError(error));
      this.lost('token_error');
      return;
    }
    if (generation !== this._generation) return; // closed or replaced while the token was fetched
    const current = () => generation === this._generation;
    try {
      this._transport = this.createTransport(token, current);
    } catch (error) {
      this.lost(`cannot create the connection: ${describeError(error)}`);
    }
  }

  private createTransport(token: string, current: () => boolean): Transport {
    const hooks = this.hooks;
    return this.options.transportFactory({
      url: this.options.gatewayUrl,
      token,
      socketOptions: { ...this.options.socketOptions, timeout: this.connectTimeoutMs() },
      handlers: {
        connect: () => current() && this.onConnected(),
        disconnect: (reason) => current() && this.onDisconnect(reason),
        connectError: (message, data) => current() && this.onConnectError(message, data),
        messages: (event) => current() && hooks.messages(event),
        serverRestart: ({ reconnectInMs }) => current() && this.onServerRestart(reconnectInMs),
        // Our backlog on the gateway grew too large; the cursor makes a fresh start lossless.
        slowConsumer: () => current() && this.replace('slow_consumer', 0),
        tokenExpiring: () => current() && void this.refreshToken(current),
        // The disconnect follows; reconnecting (with a fresh token) is the way back, not a failure.
        tokenExpired: () => current() && (this.tokenExpired = true),
        unsubscribed: ({ roomId, reason }) => current() && hooks.revoked(roomId, reason),
        presenceChange: (type, event) => current() && hooks.presenceChange(type, event),
      },
    });
  }

  /** This attempt's connect timeout: socket.io's (or the app's) doubled per consecutive timeout, up to 4×. */
  private connectTimeoutMs(): number {
    const configured = this.options.socketOptions?.timeout;
    const base = typeof configured === 'number' && configured > 0 ? configured : DEFAULT_CONNECT_TIMEOUT_MS;
    return base * Math.min(2 ** this.connectTimeouts, MAX_CONNECT_TIMEOUT_FACTOR);
  }

  private onConnected(): void {
    this.failures = 0;
    this.connectTimeouts = 0;
    this.setState('connected');
    this.hooks.connected();
  }

  private onConnectError(message: string, data?: unknown): void {
    // socket.io-client reports its connect timeout as connect_error 'timeout'.
    this.connectTimeouts = message === 'timeout' ? this.connectTimeouts + 1 : 0;
    if (message === SERVER_BUSY) {
      this.onServerBusy(data);
      return;
    }
    if (message === 'unauthorized') {
      // The next attempt calls the token function again; a fixed token will keep failing.
      this.options.emit('error', new SeqcastError('unauthorized', 'the gateway rejected the token'));
    }
    this.lost(message);
  }

  /**
   * The gateway is alive but has as many handshakes in progress as it admits (a reconnect storm),
   * and named the moment to come back. Not a failure (it does not count towards maxRetries: a storm
   * may refuse a client many times, and each refusal is an answer): the attempt is repeated after
   * the hint plus jitter. Without a usable hint, after the usual backoff for the next attempt.
   */
  private onServerBusy(data: unknown): void {
    const hint = (data as Partial<ServerBusyData> | undefined)?.retryAfterMs;
    const random = this.options.random;
    const delayMs =
      typeof hint === 'number' && Number.isFinite(hint) && hint >= 0
        ? Math.floor(Math.min(hint, MAX_BUSY_HINT_MS) * (1 + SERVER_BUSY_JITTER * clampUnit(random())))
        : backoffDelay(this.failures, this.options.reconnect, random);
    this.replace(SERVER_BUSY, delayMs);
  }

  /**
   * The gateway is draining (docs/protocol.md, server_restart): it keeps serving this connection
   * for reconnectInMs and then disconnects it, the moments spread over its clients by the server.
   * So the connection is kept and delivery goes on; its end is answered by reconnecting at once
   * (onDisconnect). Should the server not close it in time, the client replaces it itself.
   */
  private onServerRestart(reconnectInMs: number): void {
    const hint = Number.isFinite(reconnectInMs) && reconnectInMs > 0 ? Math.min(reconnectInMs, MAX_RESTART_HINT_MS) : 0;
    this.restartNotified = true;
    clearTimer(this.restartTimer);
    const generation = this._generation;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (generation === this._generation) this.replace('server_restart', 0);
    }, hint + SERVER_RESTART_FALLBACK_MS);
  }

  /**
   * An established connection ended. After `server_restart` that is the drain doing what it
   * announced ('io server disconnect'; or the connection closing under it): reconnect at once,
   * not counted as a failure, since the cursor makes it lossless and this instance
   * refuses new connections anyway. Anything else is a failure: backoff.
   */
  private onDisconnect(reason: string): void {
    if (this.restartNotified) this.replace('server_restart', 0);
    else if (this.tokenExpired) this.replace('token_expired', 0);
    else this.lost(reason);
  }

  /**
   * `token_expiring`: hand the gateway a fresh token on the live socket. A fixed token has nothing
   * fresher to offer, so the socket ends at `exp` and the reconnect reports `unauthorized`.
   * A refused refresh is reported; the gateway then disconnects at `exp` and the reconnect asks
   * for a token again.
   */
  private async refreshToken(current: () => boolean): Promise<void> {
    if (!this.options.token.refreshable) return;
    let token: string;
    try {
      token = await this.options.token.resolve();
    } catch (error) {
      if (current()) this.options.emit('error', asSeqcastError(error));
      return;
    }
    const transport = this._transport;
    if (!current() || !transport) return;
    transport.refresh({ token }, (ack) => {
      if (!current() || ack.ok) return;
      this.options.emit('error', new SeqcastError(ack.error.code, `token refresh refused: ${ack.error.message}`));
    });
  }

  /** A reconnect the server asked for: not a failure, so it does not count towards maxRetries. */
  private replace(reason: string, delayMs: number): void {
    this.drop();
    this.scheduleOpen(delayMs, { attempt: this.failures, delayMs, reason });
  }

  private scheduleOpen(delayMs: number, detail: StateDetail): void {
    clearTimer(this.reconnectTimer);
    this.setState('reconnecting', detail);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.open();
    }, delayMs);
  }

  private fail(reason: string): void {
    this.setState('failed', { attempt: this.failures, reason });
    this.hooks.failed(reason);
  }

  private drop(): void {
    this._generation++;
    this.restartNotified = false;
    this.tokenExpired = false;
    clearTimer(this.restartTimer);
    this.restartTimer = undefined;
    const transport = this._transport;
    this._transport = undefined;
    this.hooks.dropped();
    transport?.close();
  }

  private setState(state: ConnectionState, detail?: StateDetail): void {
    if (state === this._state && detail === undefined) return;
    this._state = state;
    this.options.emit('state', state, detail);
  }
}

function asSeqcastError(error: unknown): SeqcastError {
  return error instanceof SeqcastError ? error : new SeqcastError('token_error', describeError(error));
}

function clampUnit(value: number): number {
  return Math.min(Math.max(value, 0), 1);
}

export function clearTimer(timer: Timer | undefined): void {
  if (timer !== undefined) clearTimeout(timer);
}
