/**
 * The one place the SDK touches socket.io-client. Everything above this seam (reconnects,
 * cursors, dedupe, gaps, acks) is the SDK's own logic and is unit-tested against a fake transport.
 * One Transport is one connection attempt: the SDK never lets socket.io reconnect by itself.
 */
import type {
  AckRequest,
  ClientToServerEvents,
  MessagesEvent,
  PresenceAck,
  PresenceChangeEvent,
  PresenceRequest,
  PublishAck,
  SocketPublishRequest,
  RefreshAck,
  RefreshRequest,
  ServerRestartEvent,
  ServerToClientEvents,
  SlowConsumerEvent,
  SubscribeAck,
  SubscribeRequest,
  TokenExpiredEvent,
  TokenExpiringEvent,
  UnsubscribeAck,
  UnsubscribedEvent,
  UnsubscribeRequest,
} from '@seqcast/contracts/wire';
import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';

export type SocketIoOptions = Partial<ManagerOptions & SocketOptions>;

export interface TransportHandlers {
  connect(): void;
  /** The connection ended after `connect` (reason as socket.io reports it). */
  disconnect(reason: string): void;
  /**
   * The connection attempt failed; `unauthorized` means the token was rejected, `server_busy` that
   * the gateway asks to be retried later (`data` = `{ retryAfterMs }`).
   */
  connectError(message: string, data?: unknown): void;
  messages(event: MessagesEvent): void;
  serverRestart(event: ServerRestartEvent): void;
  slowConsumer(event: SlowConsumerEvent): void;
  /** The token expires soon: send a fresh one with `refresh`. */
  tokenExpiring(event: TokenExpiringEvent): void;
  /** The token expired without a refresh; the gateway disconnects right after. */
  tokenExpired(event: TokenExpiredEvent): void;
  /** The gateway ended a subscription (a refreshed token no longer grants it). */
  unsubscribed(event: UnsubscribedEvent): void;
  /** Presence (./presence.ts): a join or leave in a room subscribed with presence. */
  presenceChange?(type: 'join' | 'leave', event: PresenceChangeEvent): void;
}

export interface Transport {
  subscribe(request: SubscribeRequest, ack: (response: SubscribeAck) => void): void;
  unsubscribe(request: UnsubscribeRequest, ack: (response: UnsubscribeAck) => void): void;
  ack(request: AckRequest): void;
  refresh(request: RefreshRequest, ack: (response: RefreshAck) => void): void;
  /** Lists a room's members (./presence.ts); optional so test doubles may leave it out. */
  presence?(request: PresenceRequest, ack: (response: PresenceAck) => void): void;
  /** Publishes over this connection (./client-publisher.ts); optional so test doubles may leave it out. */
  publish?(request: SocketPublishRequest, ack: (response: PublishAck) => void): void;
  /** Disconnects; no handler is called afterwards. */
  close(): void;
}

export interface TransportParams {
  url: string;
  token: string;
  socketOptions?: SocketIoOptions;
  handlers: TransportHandlers;
}

export type TransportFactory = (params: TransportParams) => Transport;

export const socketIoTransport: TransportFactory = ({ url, token, socketOptions, handlers }) => {
  const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(url, {
    transports: ['websocket', 'polling'],
    // Without this, a WebSocket that a proxy or firewall blocks ends the attempt with
    // connect_error instead of moving on to HTTP long-polling (the next transport in the list).
    tryAllTransports: true,
    ...socketOptions,
    // The SDK owns reconnection (backoff, token refresh, resubscribe from cursors), and each
    // attempt gets its own Manager so a fresh token is used and clients never share a connection.
    reconnection: false,
    forceNew: true,
    autoConnect: true,
    auth: { token },
  });
  socket.on('connect', () => handlers.connect());
  socket.on('disconnect', (reason) => handlers.disconnect(reason));
  // A gateway's refusal carries `data` (server_busy: { retryAfterMs }); transport errors do not.
  socket.on('connect_error', (error) => handlers.connectError(error.message, (error as { data?: unknown }).data));
  socket.on('messages', (event) => handlers.messages(event));
  socket.on('server_restart', (event) => handlers.serverRestart(event));
  socket.on('slow_consumer', (event) => handlers.slowConsumer(event));
  socket.on('token_expiring', (event) => handlers.tokenExpiring(event));
  socket.on('token_expired', (event) => handlers.tokenExpired(event));
  socket.on('unsubscribed', (event) => handlers.unsubscribed(event));
  socket.on('presence_join', (event) => handlers.presenceChange?.('join', event));
  socket.on('presence_leave', (event) => handlers.presenceChange?.('leave', event));
  return {
    subscribe: (request, ack) => void socket.emit('subscribe', request, ack),
    unsubscribe: (request, ack) => void socket.emit('unsubscribe', request, ack),
    ack: (request) => void socket.emit('ack', request),
    refresh: (request, ack) => void socket.emit('refresh', request, ack),
    presence: (request, ack) => void socket.emit('presence', request, ack),
    publish: (request, ack) => void socket.emit('publish', request, ack),
    close: () => {
      socket.removeAllListeners();
      socket.disconnect();
    },
  };
};
