/**
 * SeqcastClient: one Socket.IO connection to an edge-gateway, publishing over it (or over HTTP to
 * ingest-api when it is not connected).
 *
 * The promise to the app is "each room's messages exactly once, in order". The gateway already
 * tries to send exactly that, but connections drop, gateways restart and events are delivered at
 * least once, so the client does not trust the stream: it keeps a cursor (epoch, seq) per room,
 * resumes from it on every connection, drops what it already has and refuses what does not chain.
 *
 * This class is the public face; the work is split as socket.io-client (Manager vs Socket) and
 * centrifuge-js (Centrifuge vs Subscription) split it:
 * - Connection (connection.ts): the connection state machine, reconnect backoff, server restarts,
 *   token refresh;
 * - RoomSubscriptions (room-subscriptions.ts): per-room cursors, the subscribe handshake, delivery
 *   and gap healing (the pure rule in room-cursor.ts);
 * - AckBatcher (ack-batcher.ts): cumulative acks, one per room per ackDelayMs;
 * - ClientPublisher (client-publisher.ts): publishing over the connection when it is up, else over
 *   HTTP with safe retries (publisher.ts);
 * - options, defaults and validation (client-options.ts), events (client-events.ts), the token
 *   (token-source.ts);
 * - PresenceTracker (presence.ts): rooms subscribed with presence, the presence request and events;
 * - HistoryReader (history.ts): history pages over HTTP, forward or backward.
 */
import type { JsonValue, PublishResult } from '@seqcast/contracts/wire';
import { AckBatcher } from './ack-batcher';
import { ClientEventBus, type ClientEvents } from './client-events';
import {
  type ConnectionState,
  type GapInfo,
  type PublishOptions,
  resolveOptions,
  type RoomMessage,
  type SeqcastClientInternals,
  type SeqcastClientOptions,
  type StateDetail,
} from './client-options';
import { ClientPublisher } from './client-publisher';
import { type HistoryOptions, type HistoryPage, HistoryReader } from './history';
import { Connection } from './connection';
import { MemoryCursorStore } from './cursor-store';
import { type PresenceChange, type PresenceList, PresenceTracker } from './presence';
import { RoomSubscriptions } from './room-subscriptions';
import { SeqcastError } from './seqcast-error';
import { TokenProvider } from './token-source';
import { socketIoTransport } from './transport';

// The public types live with the options; re-exported so that this module stays the client's home.
export type {
  ConnectionState,
  GapInfo,
  PublishOptions,
  PublishRetryOptions,
  ReconnectOptions,
  RoomMessage,
  SeqcastClientInternals,
  SeqcastClientOptions,
  StateDetail,
  TokenSource,
} from './client-options';
export { SERVER_RESTART_FALLBACK_MS } from './connection';
export type { HistoryOptions, HistoryPage } from './history';

/**
 * `TPayload` types the payloads this client publishes and receives (default: any JSON value).
 */
export class SeqcastClient<TPayload extends JsonValue = JsonValue> {
  private readonly events = new ClientEventBus();
  private readonly connection: Connection;
  private readonly rooms: RoomSubscriptions;
  private readonly acks: AckBatcher;
  private readonly publisher: ClientPublisher;
  private readonly presenceTracker: PresenceTracker;
  private readonly historyReader: HistoryReader;

  constructor(options: SeqcastClientOptions, internals: SeqcastClientInternals = {}) {
    const resolved = resolveOptions(options);
    const { random } = resolved;
    const emit = this.events.emit;
    const token = new TokenProvider(options);
    this.connection = new Connection({
      gatewayUrl: options.gatewayUrl,
      socketOptions: options.socketOptions,
      reconnect: resolved.reconnect,
      random,
      token,
      transportFactory: internals.transportFactory ?? socketIoTransport,
      emit,
    });
    this.presenceTracker = new PresenceTracker(
      () => (this.connection.state === 'connected' ? this.connection.live : undefined),
      () => resolved.subscribeTimeoutMs,
    );
    this.rooms = new RoomSubscriptions({
      decorate: (request) => this.presenceTracker.decorate(request),
      connection: this.connection,
      store: options.cursorStore ?? new MemoryCursorStore(),
      acks: () => this.acks,
      subscribeTimeoutMs: resolved.subscribeTimeoutMs,
      retry: resolved.reconnect,
      random,
      emit,
    });
    this.acks = new AckBatcher({
      delayMs: resolved.ackDelayMs,
      lookup: (roomId) => this.rooms.get(roomId),
      send: (roomId, seq) => {
        const transport = this.connection.live;
        transport?.ack({ roomId, seq });
        return transport !== undefined;
      },
    });
    this.connection.hooks = {
      connected: () => this.rooms.resubscribeAll(),
      dropped: () => this.rooms.connectionDropped(),
      failed: (reason) => this.rooms.rejectUnconfirmed(reason),
      messages: (event) => this.rooms.onMessages(event),
      revoked: (roomId, reason) => this.rooms.revoked(roomId, reason),
      presenceChange: (type, event) => this.presenceTracker.dispatch(type, event),
    };
    this.publisher = new ClientPublisher({
      ingestUrl: options.ingestUrl,
      token,
      retry: resolved.publishRetry,
      random,
      fetch: internals.fetch,
      transport: resolved.publishTransport,
      socket: () => (this.connection.state === 'connected' ? this.connection.live : undefined),
      socketTimeoutMs: resolved.subscribeTimeoutMs,
      onConnectionLost: (listener) => this.events.on('state', (state) => state !== 'connected' && listener()),
    });
    this.historyReader = new HistoryReader({
      ingestUrl: options.ingestUrl,
      token,
      retry: resolved.publishRetry,
      random,
      fetch: internals.fetch,
    });
  }

  get state(): ConnectionState {
    return this.connection.state;
  }

  /** Starts connecting (again, after `failed` or `closed`); a no-op while connecting or connected. */
  connect(): void {
    this.connection.connect();
  }

  /** Disconnects for good and forgets subscriptions (cursors stay in the store). */
  close(): void {
    this.acks.close();
    this.connection.close(() => this.rooms.closeAll());
  }

  /**
   * Delivers the room's messages to `onMessage`, each once and in seq order, resuming from the
   * stored cursor if there is one, else from now on; with `{ last: N }` (1-1000) and no stored
   * cursor, the room's latest N stored messages come first, then live (a stored cursor wins: the
   * room resumes exactly where it was). Resolves on the first ok acknowledgement
   * (waiting for a connection if needed); rejects with a SeqcastError on `forbidden` or
   * `invalid_request`. Subscribing again replaces the handler.
   */
  subscribe(
    roomId: string,
    onMessage: (message: RoomMessage<TPayload>) => void,
    options?: { presence?: boolean; last?: number },
  ): Promise<void> {
    if (options?.presence) this.presenceTracker.want(roomId);
    if (typeof onMessage !== 'function') {
      return Promise.reject(new SeqcastError('invalid_request', 'subscribe: onMessage must be a function'));
    }
    return this.rooms.subscribe(roomId, onMessage as (message: RoomMessage) => void, { last: options?.last });
  }

  /** Stops delivery for the room at once; resolves when the gateway confirms (or the connection is gone). */
  unsubscribe(roomId: string): Promise<void> {
    this.presenceTracker.forget(roomId);
    return this.rooms.unsubscribe(roomId);
  }

  /**
   * One page of the room's stored history over HTTP (GET /v1/rooms/:roomId/messages), e.g.
   * `history(room, { direction: 'backward', limit: 50 })` for the latest 50, then
   * `{ beforeSeq: page.nextBeforeSeq }` for older ones. Messages are in ascending seq either way.
   * Retries like publish (503 with Retry-After, 502/504, network errors); 4xx answers are final.
   */
  history(roomId: string, options: HistoryOptions = {}): Promise<HistoryPage<TPayload>> {
    return this.historyReader.read(roomId, options) as Promise<HistoryPage<TPayload>>;
  }

  /** The room's members across gateways (docs/protocol.md "Presence"); needs a connection. */
  presence(roomId: string): Promise<PresenceList> {
    return this.presenceTracker.list(roomId);
  }

  /** presence_join / presence_leave of rooms subscribed with `{ presence: true }`; returns the off function. */
  onPresence(listener: (change: PresenceChange) => void): () => void {
    return this.presenceTracker.onChange(listener);
  }

  /**
   * Publishes one message: over the gateway connection when it is connected (unless
   * `publishTransport: 'http'`), else over HTTP. A socket publish not answered within
   * subscribeTimeoutMs, or answered `unavailable`, goes over HTTP with the same clientMsgId. HTTP
   * retries 503s (honouring Retry-After), 502/504 and network errors with the same clientMsgId,
   * so at most one message results; other refusals are final.
   */
  async publish(roomId: string, payload: TPayload, options: PublishOptions = {}): Promise<PublishResult> {
    return this.publisher.publish(roomId, payload, options);
  }

  on(event: 'state', fn: (state: ConnectionState, detail?: StateDetail) => void): () => void;
  /** The room's epoch changed (log reset): its cursor was dropped and delivery restarts in the new epoch. */
  on(event: 'reset', fn: (roomId: string) => void): () => void;
  /** A message did not chain onto the cursor; the room is being resubscribed from the cursor. */
  on(event: 'gap', fn: (roomId: string, info: GapInfo) => void): () => void;
  on(event: 'error', fn: (error: SeqcastError) => void): () => void;
  on<E extends keyof ClientEvents>(event: E, fn: ClientEvents[E]): () => void {
    return this.events.on(event, fn);
  }
}
