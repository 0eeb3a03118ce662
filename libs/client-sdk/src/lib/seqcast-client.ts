/**
 * SeqcastClient: one Socket.IO connection to an edge-gateway plus HTTP publishing to ingest-api.
 *
 * The promise to the app is "each room's messages exactly once, in order". The gateway already
 * tries to send exactly that, but connections drop, gateways restart and events are delivered at
 * least once, so the client does not trust the stream: it keeps a cursor (epoch, seq) per room,
 * resumes from it on every connection, drops what it already has and refuses what does not chain.
 */
import type {
  JsonValue,
  Message,
  MessagesEvent,
  PublishResult,
  SubscribeAck,
  SubscribeRequest,
} from '@seqcast/contracts/wire';
import { backoffDelay } from './backoff';
import { type Cursor, type CursorStore, MemoryCursorStore } from './cursor-store';
import { abortableSleep, publishWithRetry } from './publisher';
import { randomId } from './random-id';
import { describeError, SeqcastError } from './seqcast-error';
import { socketIoTransport, type SocketIoOptions, type Transport, type TransportFactory } from './transport';
import { type PresenceChange, type PresenceList, PresenceTracker } from './presence'; // presence hook

export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'failed' | 'closed';

export interface StateDetail {
  /** Consecutive failed attempts so far (reconnecting, failed). */
  attempt?: number;
  /** How long until the next attempt (reconnecting). */
  delayMs?: number;
  /** Why the connection was lost or is being replaced. */
  reason?: string;
}

export interface GapInfo {
  /** The client's cursor: the seq the next message should have named as prevSeq. */
  expectedPrevSeq: number;
  gotPrevSeq: number | null;
}

export interface ReconnectOptions {
  /** Backoff ceiling for the first retry; doubles per consecutive failure. Default 500. */
  baseDelayMs?: number;
  /** Cap on the backoff ceiling. Default 30000. */
  maxDelayMs?: number;
  /** Consecutive failed reconnect attempts before giving up (state `failed`). Default 20. */
  maxRetries?: number;
}

export interface PublishRetryOptions {
  /** Total attempts including the first. Default 5. */
  maxAttempts?: number;
  /** Default 200. */
  baseDelayMs?: number;
  /** Default 5000. A 503's Retry-After takes precedence. */
  maxDelayMs?: number;
}

export type TokenSource = string | (() => string | Promise<string>);

/**
 * A message whose payload the app has typed. The server does not check payload shapes: the type is
 * the app's promise about what its publishers send, not something the SDK verifies.
 */
export type RoomMessage<TPayload extends JsonValue = JsonValue> = Omit<Message, 'payload'> & { payload: TPayload };

export interface SeqcastClientOptions {
  /** edge-gateway base URL, e.g. `http://localhost:3001`. */
  gatewayUrl: string;
  /** ingest-api base URL, e.g. `http://localhost:3000`. */
  ingestUrl: string;
  /**
   * Called for a JWT on every connect, reconnect, publish and whenever the gateway announces that
   * the socket's token expires soon (`token_expiring`), so a long-lived client never outlives its
   * token. Takes precedence over `token`.
   */
  getToken?: () => string | Promise<string>;
  /** A fixed JWT (the socket is disconnected at its `exp`), or a function (same as `getToken`). */
  token?: TokenSource;
  /** Where cursors live. Default: MemoryCursorStore (resume within this client's lifetime). */
  cursorStore?: CursorStore;
  reconnect?: ReconnectOptions;
  publishRetry?: PublishRetryOptions;
  /** Acks are cumulative; send at most one per room per this many milliseconds. Default 100. */
  ackDelayMs?: number;
  /**
   * A subscribe the gateway has not acknowledged within this many milliseconds means the
   * connection is not working (typically half-open): the client reports a `timeout` error and
   * reconnects (a counted failure), resubscribing every room from its cursor. Default 10000.
   */
  subscribeTimeoutMs?: number;
  /** Passed to socket.io-client's io(); `reconnection` is forced off because the SDK owns it. */
  socketOptions?: SocketIoOptions;
  /** Source of jitter, injectable for tests. Default Math.random. */
  random?: () => number;
}

export interface PublishOptions {
  /** Your idempotency key; generated (and reused across retries) when omitted. */
  clientMsgId?: string;
  /**
   * Stops waiting and retrying: publish() rejects with SeqcastError `aborted`. A request already
   * sent may still have been accepted; publishing again with the same clientMsgId is safe.
   */
  signal?: AbortSignal;
}

/**
 * Test seams, not part of the supported API: the SDK's logic is exercised against a fake
 * transport and fetch. Production code leaves both out.
 * @internal
 */
export interface SeqcastClientInternals {
  transportFactory?: TransportFactory;
  fetch?: typeof fetch;
}

interface ClientEvents {
  state: (state: ConnectionState, detail?: StateDetail) => void;
  reset: (roomId: string) => void;
  gap: (roomId: string, info: GapInfo) => void;
  error: (error: SeqcastError) => void;
}

type Timer = ReturnType<typeof setTimeout>;

interface Room {
  readonly roomId: string;
  onMessage: (message: Message) => void;
  /** Last message handed to the app (or the head we were told about); undefined until known. */
  cursor: Cursor | undefined;
  /** Settles once the stored cursor was read; never rejects. */
  loaded: Promise<void>;
  /** `live` only between an ok subscribe ack and the next loss: all other messages are ignored. */
  phase: 'idle' | 'subscribing' | 'live';
  /** Id of the subscribe request whose ack counts; older acks are stale. */
  request: number;
  /** After a reset or truncation the first message cannot chain onto anything we hold. */
  acceptAnyFirst: boolean;
  confirmed: boolean;
  waiters: Array<{ resolve: () => void; reject: (error: SeqcastError) => void }>;
  retryTimer: Timer | undefined;
  /** Runs out when the pending subscribe's ack is late (subscribeTimeoutMs). */
  ackTimeout: Timer | undefined;
  retryAttempt: number;
  lastAckedSeq: number;
  /** Heals in a row that ended at the same cursor: the gateway cannot fill that gap. */
  futileHeals: { seq: number; count: number };
}

/**
 * After this many resubscribes that still do not chain onto the same cursor, the missing
 * messages are not in the gateway's history either; delivering on beats stalling the room.
 */
const MAX_FUTILE_HEALS = 3;

/**
 * After `server_restart { reconnectInMs }` the gateway disconnects us within reconnectInMs plus
 * a short grace; a connection still open this much later is replaced by the client itself.
 */
export const SERVER_RESTART_FALLBACK_MS = 2_000;

/** reconnectInMs beyond this is treated as this (a day): a hint, not a reason to wait forever. */
const MAX_RESTART_HINT_MS = 24 * 60 * 60 * 1000;

const DEFAULTS = {
  reconnect: { baseDelayMs: 500, maxDelayMs: 30_000, maxRetries: 20 },
  publishRetry: { maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 5_000 },
  ackDelayMs: 100,
  subscribeTimeoutMs: 10_000,
};

/**
 * `TPayload` types the payloads this client publishes and receives (default: any JSON value).
 */
export class SeqcastClient<TPayload extends JsonValue = JsonValue> {
  private readonly reconnectPolicy: Required<ReconnectOptions>;
  private readonly publishPolicy: Required<PublishRetryOptions>;
  private readonly ackDelayMs: number;
  private readonly subscribeTimeoutMs: number;
  private readonly store: CursorStore;
  private readonly random: () => number;
  private readonly transportFactory: TransportFactory;
  private readonly fetchImpl: typeof fetch | undefined;

  private _state: ConnectionState = 'idle';
  private transport: Transport | undefined;
  /** Bumped whenever the current transport is replaced or dropped; handlers of older ones are ignored. */
  private generation = 0;
  private failures = 0;
  private reconnectTimer: Timer | undefined;
  /** The current connection was told `server_restart`: its end is expected, and replaced at once. */
  private restartNotified = false;
  /** The gateway sent `token_expired`: the disconnect that follows is answered by reconnecting at once. */
  private tokenExpired = false;
  /** Replaces the current connection if the draining gateway has not closed it in time. */
  private restartTimer: Timer | undefined;
  private ackTimer: Timer | undefined;
  private readonly ackDue = new Set<string>();
  private readonly rooms = new Map<string, Room>();
  private requestCounter = 0;
  /** Pending unsubscribe() calls: a dropped connection answers them (the server forgot the socket). */
  private readonly onDrop = new Set<() => void>();
  private readonly listeners: { [E in keyof ClientEvents]: Set<ClientEvents[E]> } = {
    state: new Set(),
    reset: new Set(),
    gap: new Set(),
    error: new Set(),
  };

  constructor(
    private readonly options: SeqcastClientOptions,
    internals: SeqcastClientInternals = {},
  ) {
    requireUrl('gatewayUrl', options.gatewayUrl);
    requireUrl('ingestUrl', options.ingestUrl);
    if (options.getToken !== undefined && typeof options.getToken !== 'function') {
      throw new SeqcastError('invalid_options', 'getToken must be a function returning a token');
    }
    if (options.getToken === undefined && typeof options.token !== 'string' && typeof options.token !== 'function') {
      throw new SeqcastError('invalid_options', 'getToken (or token: a string or a function returning one) is required');
    }
    this.reconnectPolicy = { ...DEFAULTS.reconnect, ...defined(options.reconnect) };
    this.publishPolicy = { ...DEFAULTS.publishRetry, ...defined(options.publishRetry) };
    this.ackDelayMs = options.ackDelayMs ?? DEFAULTS.ackDelayMs;
    this.subscribeTimeoutMs = options.subscribeTimeoutMs ?? DEFAULTS.subscribeTimeoutMs;
    requireNumber('reconnect.baseDelayMs', this.reconnectPolicy.baseDelayMs, 0);
    requireNumber('reconnect.maxDelayMs', this.reconnectPolicy.maxDelayMs, 0);
    requireNumber('reconnect.maxRetries', this.reconnectPolicy.maxRetries, 0);
    requireNumber('publishRetry.maxAttempts', this.publishPolicy.maxAttempts, 1);
    requireNumber('publishRetry.baseDelayMs', this.publishPolicy.baseDelayMs, 0);
    requireNumber('publishRetry.maxDelayMs', this.publishPolicy.maxDelayMs, 0);
    requireNumber('ackDelayMs', this.ackDelayMs, 0);
    requireNumber('subscribeTimeoutMs', this.subscribeTimeoutMs, 1);
    this.store = options.cursorStore ?? new MemoryCursorStore();
    this.random = options.random ?? Math.random;
    this.transportFactory = internals.transportFactory ?? socketIoTransport;
    this.fetchImpl = internals.fetch;
  }

  get state(): ConnectionState {
    return this._state;
  }

  // --- presence hook: everything else is in ./presence.ts ------------------------------------
  private readonly presenceTracker = new PresenceTracker(
    () => (this._state === 'connected' ? this.transport : undefined),
    () => this.subscribeTimeoutMs,
  );
  /** The room's members across gateways (docs/protocol.md "Presence"); needs a connection. */
  presence(roomId: string): Promise<PresenceList> {
    return this.presenceTracker.list(roomId);
  }
  /** presence_join / presence_leave of rooms subscribed with `{ presence: true }`; returns the off function. */
  onPresence(listener: (change: PresenceChange) => void): () => void {
    return this.presenceTracker.onChange(listener);
  }
  // --- end of presence hook -------------------------------------------------------------------

  /** Starts connecting (again, after `failed` or `closed`); a no-op while connecting or connected. */
  connect(): void {
    if (this._state === 'connecting' || this._state === 'connected' || this._state === 'reconnecting') return;
    this.failures = 0;
    this.setState('connecting');
    void this.open();
  }

  /** Disconnects for good and forgets subscriptions (cursors stay in the store). */
  close(): void {
    this.flushAcks();
    clearTimer(this.ackTimer);
    this.ackTimer = undefined;
    this.ackDue.clear();
    clearTimer(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.dropTransport();
    for (const room of this.rooms.values()) {
      clearTimer(room.retryTimer);
      rejectWaiters(room, new SeqcastError('closed', `client closed before ${room.roomId} was subscribed`));
    }
    this.rooms.clear();
    this.setState('closed');
  }

  /**
   * Delivers the room's messages to `onMessage`, each once and in seq order, resuming from the
   * stored cursor if there is one, else from now on. Resolves on the first ok acknowledgement
   * (waiting for a connection if needed); rejects with a SeqcastError on `forbidden` or
   * `invalid_request`. Subscribing again replaces the handler.
   */
  subscribe(
    roomId: string,
    onMessage: (message: RoomMessage<TPayload>) => void,
    options?: { presence?: boolean },
  ): Promise<void> {
    if (options?.presence) this.presenceTracker.want(roomId); // presence hook (./presence.ts)
    if (typeof onMessage !== 'function') {
      return Promise.reject(new SeqcastError('invalid_request', 'subscribe: onMessage must be a function'));
    }
    const existing = this.rooms.get(roomId);
    if (existing) {
      existing.onMessage = onMessage as (message: Message) => void;
      return existing.confirmed ? Promise.resolve() : this.waitFor(existing);
    }
    const room: Room = {
      roomId,
      onMessage: onMessage as (message: Message) => void,
      cursor: undefined,
      loaded: Promise.resolve(),
      phase: 'idle',
      request: 0,
      acceptAnyFirst: false,
      confirmed: false,
      waiters: [],
      retryTimer: undefined,
      ackTimeout: undefined,
      retryAttempt: 0,
      lastAckedSeq: -1,
      futileHeals: { seq: -1, count: 0 },
    };
    room.loaded = this.loadCursor(room);
    this.rooms.set(roomId, room);
    const confirmed = this.waitFor(room);
    if (this._state === 'connected') void this.sendSubscribe(room);
    return confirmed;
  }

  /** Stops delivery for the room at once; resolves when the gateway confirms (or the connection is gone). */
  async unsubscribe(roomId: string): Promise<void> {
    this.presenceTracker.forget(roomId); // presence hook (./presence.ts)
    const room = this.rooms.get(roomId);
    if (!room) return;
    if (this.ackDue.has(roomId)) this.sendAck(room);
    this.ackDue.delete(roomId);
    this.rooms.delete(roomId);
    clearTimer(room.retryTimer);
    clearTimer(room.ackTimeout);
    rejectWaiters(room, new SeqcastError('unsubscribed', `unsubscribe(${roomId}) was called before the subscription was acknowledged`));
    const transport = this.transport;
    if (!transport || this._state !== 'connected') return;
    await new Promise<void>((resolve, reject) => {
      const done = () => {
        this.onDrop.delete(done);
        resolve();
      };
      this.onDrop.add(done);
      transport.unsubscribe({ roomId }, (ack) => {
        this.onDrop.delete(done);
        if (ack.ok) resolve();
        else reject(new SeqcastError(ack.error.code, ack.error.message));
      });
    });
  }

  /**
   * Publishes one message over HTTP. Retries 503s (honouring Retry-After), 502/504 and network
   * errors with the same clientMsgId, so at most one message results; 4xx answers are final.
   */
  async publish(roomId: string, payload: TPayload, options: PublishOptions = {}): Promise<PublishResult> {
    const globalFetch = globalThis.fetch as typeof fetch | undefined;
    // Called as a plain function: browsers reject window.fetch invoked with another `this`
    // ("Illegal invocation"), which is what calling it as deps.fetch() would do.
    const fetchImpl = this.fetchImpl ?? (globalFetch ? (input: RequestInfo | URL, init?: RequestInit) => globalFetch(input, init) : undefined);
    if (!fetchImpl) throw new SeqcastError('invalid_options', 'publish needs a global fetch (Node >= 20 or a browser)');
    return publishWithRetry(
      { roomId, clientMsgId: options.clientMsgId ?? randomId(this.random), payload },
      {
        ingestUrl: this.options.ingestUrl,
        fetch: fetchImpl,
        token: () => this.resolveToken(),
        retry: this.publishPolicy,
        random: this.random,
        sleep: abortableSleep,
        signal: options.signal,
      },
    );
  }

  on(event: 'state', fn: (state: ConnectionState, detail?: StateDetail) => void): () => void;
  /** The room's epoch changed (log reset): its cursor was dropped and delivery restarts in the new epoch. */
  on(event: 'reset', fn: (roomId: string) => void): () => void;
  /** A message did not chain onto the cursor; the room is being resubscribed from the cursor. */
  on(event: 'gap', fn: (roomId: string, info: GapInfo) => void): () => void;
  on(event: 'error', fn: (error: SeqcastError) => void): () => void;
  on<E extends keyof ClientEvents>(event: E, fn: ClientEvents[E]): () => void {
    const set = this.listeners[event] as Set<ClientEvents[E]> | undefined;
    if (!set) throw new SeqcastError('invalid_request', `unknown event: ${String(event)}`);
    set.add(fn);
    return () => void set.delete(fn);
  }

  // --- connection ---------------------------------------------------------------------------

  private async open(): Promise<void> {
    const generation = ++this.generation;
    let token: string;
    try {
      token = await this.resolveToken();
    } catch (error) {
      if (generation !== this.generation) return;
      this.emit('error', error instanceof SeqcastError ? error : new SeqcastError('token_error', describeError(error)));
      this.connectionLost('token_error');
      return;
    }
    if (generation !== this.generation) return; // closed or replaced while the token was fetched
    const current = () => generation === this.generation;
    try {
      this.transport = this.createTransport(token, current);
    } catch (error) {
      this.connectionLost(`cannot create the connection: ${describeError(error)}`);
    }
  }

  private createTransport(token: string, current: () => boolean): Transport {
    return this.transportFactory({
      url: this.options.gatewayUrl,
      token,
      socketOptions: this.options.socketOptions,
      handlers: {
        connect: () => current() && this.onConnected(),
        disconnect: (reason) => current() && this.onDisconnect(reason),
        connectError: (message) => current() && this.onConnectError(message),
        messages: (event) => current() && this.onMessages(event),
        serverRestart: ({ reconnectInMs }) => current() && this.onServerRestart(reconnectInMs),
        // Our backlog on the gateway grew too large; the cursor makes a fresh start lossless.
        slowConsumer: () => current() && this.replaceConnection('slow_consumer', 0),
        tokenExpiring: () => current() && void this.refreshToken(current),
        // The disconnect follows; reconnecting (with a fresh token) is the way back, not a failure.
        tokenExpired: () => current() && (this.tokenExpired = true),
        unsubscribed: ({ roomId, reason }) => current() && this.onRevoked(roomId, reason),
        presenceChange: (type, event) => current() && this.presenceTracker.dispatch(type, event), // presence hook
      },
    });
  }

  private onConnected(): void {
    this.failures = 0;
    this.setState('connected');
    for (const room of this.rooms.values()) void this.sendSubscribe(room);
  }

  private onConnectError(message: string): void {
    if (message === 'unauthorized') {
      // The next attempt calls the token function again; a fixed token will keep failing.
      this.emit('error', new SeqcastError('unauthorized', 'the gateway rejected the token'));
    }
    this.connectionLost(message);
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
    const generation = this.generation;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (generation === this.generation) this.replaceConnection('server_restart', 0);
    }, hint + SERVER_RESTART_FALLBACK_MS);
  }

  /**
   * An established connection ended. After `server_restart` that is the drain doing what it
   * announced ('io server disconnect'; or the connection closing under it): reconnect at once,
   * not counted as a failure, since the cursor makes it lossless and this instance
   * refuses new connections anyway. Anything else is a failure: backoff.
   */
  private onDisconnect(reason: string): void {
    if (this.restartNotified) this.replaceConnection('server_restart', 0);
    else if (this.tokenExpired) this.replaceConnection('token_expired', 0);
    else this.connectionLost(reason);
  }

  /**
   * `token_expiring`: hand the gateway a fresh token on the live socket. A fixed token has nothing
   * fresher to offer, so the socket ends at `exp` and the reconnect reports `unauthorized`.
   * A refused refresh is reported; the gateway then disconnects at `exp` and the reconnect asks
   * for a token again.
   */
  private async refreshToken(current: () => boolean): Promise<void> {
    const source = this.options.getToken ?? this.options.token;
    if (typeof source !== 'function') return;
    let token: string;
    try {
      token = await this.resolveToken();
    } catch (error) {
      if (current()) this.emit('error', error instanceof SeqcastError ? error : new SeqcastError('token_error', describeError(error)));
      return;
    }
    const transport = this.transport;
    if (!current() || !transport) return;
    transport.refresh({ token }, (ack) => {
      if (!current() || ack.ok) return;
      this.emit('error', new SeqcastError(ack.error.code, `token refresh refused: ${ack.error.message}`));
    });
  }

  /** The gateway ended a subscription: a refreshed token no longer grants it. Not resubscribed. */
  private onRevoked(roomId: string, reason: string): void {
    const room = this.rooms.get(roomId);
    if (!room) return;
    this.rooms.delete(roomId);
    this.ackDue.delete(roomId);
    clearTimer(room.retryTimer);
    const error = new SeqcastError('forbidden', `${roomId}: subscription ended by the gateway (${reason})`);
    if (room.waiters.length > 0) rejectWaiters(room, error);
    else this.emit('error', error);
  }

  /** An attempt failed or an established connection broke: counted, backed off, maybe terminal. */
  private connectionLost(reason: string): void {
    this.dropTransport();
    this.failures++;
    if (this.failures > this.reconnectPolicy.maxRetries) {
      this.fail(reason);
      return;
    }
    const delayMs = backoffDelay(this.failures - 1, this.reconnectPolicy, this.random);
    this.scheduleOpen(delayMs, { attempt: this.failures, delayMs, reason });
  }

  /** A reconnect the server asked for: not a failure, so it does not count towards maxRetries. */
  private replaceConnection(reason: string, delayMs: number): void {
    this.dropTransport();
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
    // A subscribe() that never got its ack must not hang forever; acknowledged rooms are kept
    // and resume from their cursors if connect() is called again.
    for (const room of [...this.rooms.values()]) {
      if (room.confirmed) continue;
      this.rooms.delete(room.roomId);
      rejectWaiters(room, new SeqcastError('connection_failed', `could not connect to subscribe to ${room.roomId}: ${reason}`));
    }
  }

  private dropTransport(): void {
    this.generation++;
    this.restartNotified = false;
    this.tokenExpired = false;
    clearTimer(this.restartTimer);
    this.restartTimer = undefined;
    const transport = this.transport;
    this.transport = undefined;
    for (const room of this.rooms.values()) {
      room.phase = 'idle';
      clearTimer(room.retryTimer);
      room.retryTimer = undefined;
      clearTimer(room.ackTimeout);
      room.ackTimeout = undefined;
    }
    for (const done of [...this.onDrop]) done();
    transport?.close();
  }

  private async resolveToken(): Promise<string> {
    const source = this.options.getToken ?? this.options.token;
    let token: unknown;
    try {
      token = typeof source === 'function' ? await source() : source;
    } catch (error) {
      throw new SeqcastError('token_error', `the token function failed: ${describeError(error)}`);
    }
    if (typeof token !== 'string' || token.length === 0) {
      throw new SeqcastError('token_error', 'the token function returned no token');
    }
    return token;
  }

  // --- subscriptions ------------------------------------------------------------------------

  private waitFor(room: Room): Promise<void> {
    return new Promise((resolve, reject) => room.waiters.push({ resolve, reject }));
  }

  private async loadCursor(room: Room): Promise<void> {
    try {
      const stored = await this.store.get(room.roomId);
      // A cursor set meanwhile (an ack arrived first) is newer than anything stored.
      if (stored && room.cursor === undefined) room.cursor = { epoch: stored.epoch, seq: stored.seq };
    } catch (error) {
      this.emit('error', new SeqcastError('cursor_store', `reading the cursor of ${room.roomId} failed: ${describeError(error)}`));
    }
  }

  private async sendSubscribe(room: Room): Promise<void> {
    const generation = this.generation;
    const request = ++this.requestCounter;
    room.request = request;
    room.phase = 'subscribing';
    clearTimer(room.retryTimer);
    room.retryTimer = undefined;
    await room.loaded;
    const transport = this.transport;
    const stale = () => generation !== this.generation || this.rooms.get(room.roomId) !== room || room.request !== request;
    if (stale() || !transport) return;
    const cursor = room.cursor;
    // presence hook (./presence.ts): rooms subscribed with { presence: true } ask for it every time.
    const body: SubscribeRequest = this.presenceTracker.decorate(
      cursor ? { roomId: room.roomId, afterSeq: cursor.seq, epoch: cursor.epoch } : { roomId: room.roomId },
    );
    clearTimer(room.ackTimeout);
    room.ackTimeout = setTimeout(() => {
      room.ackTimeout = undefined;
      if (!stale()) this.onSubscribeTimeout(room);
    }, this.subscribeTimeoutMs);
    transport.subscribe(body, (ack) => {
      if (stale()) return;
      clearTimer(room.ackTimeout);
      room.ackTimeout = undefined;
      this.onSubscribeAck(room, ack, cursor !== undefined);
    });
  }

  /**
   * A gateway that answers no subscribe is not serving this connection (half-open TCP, a stuck
   * process): replace the connection rather than wait for heartbeats to notice.
   */
  private onSubscribeTimeout(room: Room): void {
    this.emit(
      'error',
      new SeqcastError('timeout', `subscribe ${room.roomId}: no acknowledgement within ${this.subscribeTimeoutMs} ms; reconnecting`),
    );
    this.connectionLost('subscribe_timeout');
  }

  private onSubscribeAck(room: Room, ack: SubscribeAck, resumed: boolean): void {
    if (!ack.ok) {
      const error = new SeqcastError(ack.error.code, `subscribe ${room.roomId}: ${ack.error.message}`);
      if (ack.error.code === 'unavailable') {
        // The gateway's database is down: keep the room and ask again, backing off.
        const delayMs = backoffDelay(room.retryAttempt++, this.reconnectPolicy, this.random);
        room.phase = 'idle';
        room.retryTimer = setTimeout(() => {
          room.retryTimer = undefined;
          if (this._state === 'connected' && this.rooms.get(room.roomId) === room) void this.sendSubscribe(room);
        }, delayMs);
        this.emit('error', error);
        return;
      }
      // forbidden / invalid_request cannot get better by retrying: the room is dropped.
      this.rooms.delete(room.roomId);
      this.ackDue.delete(room.roomId);
      if (room.waiters.length > 0) rejectWaiters(room, error);
      else this.emit('error', error);
      return;
    }

    room.retryAttempt = 0;
    if (ack.reset) {
      // Our cursor named another incarnation of the log: its seqs mean nothing now. The gateway
      // replays the new epoch from the start of retained history.
      room.cursor = { epoch: ack.epoch, seq: -1 };
      room.acceptAnyFirst = true;
      room.lastAckedSeq = -1;
      this.persist(room.roomId, undefined);
      this.emit('reset', room.roomId);
    } else if (!resumed || room.cursor === undefined) {
      // No cursor: the stream starts after headSeq, so headSeq is exactly what we now hold.
      room.cursor = { epoch: ack.epoch, seq: ack.headSeq };
      room.acceptAnyFirst = false;
      this.persist(room.roomId, room.cursor);
    } else {
      room.acceptAnyFirst = false;
    }
    if (ack.truncated) {
      room.acceptAnyFirst = true;
      const after = ack.resumeAfterSeq === undefined ? '' : ` after seq ${ack.resumeAfterSeq}`;
      this.emit('error', new SeqcastError('truncated', `${room.roomId}: history older than retention is gone; delivery resumes${after}`));
    }
    room.phase = 'live';
    room.confirmed = true;
    const waiters = room.waiters.splice(0);
    for (const waiter of waiters) waiter.resolve();
  }

  private onMessages(event: MessagesEvent): void {
    const room = this.rooms.get(event.roomId);
    if (!room || room.phase !== 'live' || !Array.isArray(event.messages)) return;
    for (const message of event.messages) {
      // The handler may have unsubscribed or closed, and a gap stops the room.
      if (this.rooms.get(room.roomId) !== room || room.phase !== 'live') return;
      const cursor = room.cursor as Cursor;
      if (message.epoch === cursor.epoch && message.seq <= cursor.seq) continue; // already delivered
      const chains = message.epoch === cursor.epoch && (message.prevSeq ?? -1) === cursor.seq;
      if (!chains && !(room.acceptAnyFirst && message.epoch === cursor.epoch)) {
        if (!this.giveUpHealing(room, message)) {
          this.emit('gap', room.roomId, { expectedPrevSeq: cursor.seq, gotPrevSeq: message.prevSeq });
          this.heal(room);
          return;
        }
      }
      room.acceptAnyFirst = false;
      room.futileHeals = { seq: -1, count: 0 };
      room.cursor = { epoch: message.epoch, seq: message.seq };
      try {
        room.onMessage(message);
      } catch (error) {
        this.emit('error', new SeqcastError('handler_error', `onMessage for ${room.roomId} threw at seq ${message.seq}: ${describeError(error)}`));
      }
      // Persisted after the handler: a crash in between redelivers rather than loses.
      this.persist(room.roomId, { epoch: message.epoch, seq: message.seq });
      this.scheduleAck(room.roomId);
    }
  }

  /**
   * Something between the cursor and this message is missing: resubscribe from the cursor and
   * ignore the room's stream until that ack. Unsubscribing first matters: a gateway treats a
   * subscribe for a room the socket already has as a no-op and would not replay.
   */
  private heal(room: Room): void {
    room.phase = 'subscribing';
    this.transport?.unsubscribe({ roomId: room.roomId }, () => undefined);
    void this.sendSubscribe(room);
  }

  /** Counts heals that did not move the cursor; true once healing evidently cannot work. */
  private giveUpHealing(room: Room, message: Message): boolean {
    const cursor = room.cursor as Cursor;
    if (message.epoch !== cursor.epoch) return false;
    const heals = room.futileHeals;
    room.futileHeals = heals.seq === cursor.seq ? { seq: cursor.seq, count: heals.count + 1 } : { seq: cursor.seq, count: 1 };
    if (room.futileHeals.count <= MAX_FUTILE_HEALS) return false;
    this.emit(
      'error',
      new SeqcastError(
        'protocol',
        `${room.roomId}: the gateway cannot supply the messages between seq ${cursor.seq} and ${message.seq} ` +
          `(prevSeq ${message.prevSeq}); delivering on`,
      ),
    );
    return true;
  }

  private persist(roomId: string, cursor: Cursor | undefined): void {
    try {
      const pending = cursor ? this.store.set(roomId, { ...cursor }) : this.store.delete(roomId);
      if (pending) pending.catch((error: unknown) => this.storeFailed(roomId, error));
    } catch (error) {
      this.storeFailed(roomId, error);
    }
  }

  private storeFailed(roomId: string, error: unknown): void {
    this.emit('error', new SeqcastError('cursor_store', `saving the cursor of ${roomId} failed: ${describeError(error)}`));
  }

  // --- acks ---------------------------------------------------------------------------------

  private scheduleAck(roomId: string): void {
    this.ackDue.add(roomId);
    if (this.ackTimer) return;
    this.ackTimer = setTimeout(() => {
      this.ackTimer = undefined;
      this.flushAcks();
    }, this.ackDelayMs);
  }

  private flushAcks(): void {
    for (const roomId of this.ackDue) {
      const room = this.rooms.get(roomId);
      if (room) this.sendAck(room);
    }
    this.ackDue.clear();
  }

  /** Cumulative: one ack names the highest seq delivered, covering everything before it. */
  private sendAck(room: Room): void {
    const seq = room.cursor?.seq;
    if (seq === undefined || seq < 0 || seq <= room.lastAckedSeq || this._state !== 'connected' || !this.transport) return;
    this.transport.ack({ roomId: room.roomId, seq });
    room.lastAckedSeq = seq;
  }

  // --- events -------------------------------------------------------------------------------

  private setState(state: ConnectionState, detail?: StateDetail): void {
    if (state === this._state && detail === undefined) return;
    this._state = state;
    this.emit('state', state, detail);
  }

  private emit<E extends keyof ClientEvents>(event: E, ...args: Parameters<ClientEvents[E]>): void {
    for (const fn of [...this.listeners[event]]) {
      try {
        (fn as (...a: Parameters<ClientEvents[E]>) => void)(...args);
      } catch {
        // A throwing listener must not break delivery or the reconnect loop.
      }
    }
  }
}

function rejectWaiters(room: Room, error: SeqcastError): void {
  for (const waiter of room.waiters.splice(0)) waiter.reject(error);
}

function clearTimer(timer: Timer | undefined): void {
  if (timer !== undefined) clearTimeout(timer);
}

function defined<T extends object>(value: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(value ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function requireUrl(name: string, value: unknown): void {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new SeqcastError('invalid_options', `${name} must be a non-empty URL string, got ${JSON.stringify(value)}`);
  }
}

function requireNumber(name: string, value: unknown, min: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new SeqcastError('invalid_options', `${name} must be a number >= ${min}, got ${JSON.stringify(value)}`);
  }
}
