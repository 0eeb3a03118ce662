/**
 * `@seqcast/contracts/wire`: the wire types of the public protocol (docs/protocol.md) as plain
 * TypeScript, importing no package at all. The client SDK imports only this entry point and its
 * published declarations bundle this file's graph, so consumers type-check it with nothing else
 * installed (even with `skipLibCheck: false`).
 *
 * The validation schemas in ./lib check these shapes on the servers; each is tied at compile time
 * to the type declared here (./lib/exact.ts), so the two cannot drift. Only modules that import no
 * package may be imported here: wire.spec.ts walks the graph.
 */
import type { ErrorBody } from './lib/errors';

export { type ErrorBody, ErrorCode, type ErrorEnvelope } from './lib/errors';

// ---------------------------------------------------------------------------------------------
// Messages (docs/protocol.md "Message")

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * A sequenced message, the same shape wherever it is delivered (Socket.IO, history endpoint,
 * `seqcast.events` records). See docs/protocol.md "Message".
 */
export interface Message {
  roomId: string;
  /** Kafka offset of the first accepted copy in the room's partition of the messages topic. */
  seq: number;
  /** seq of the room's previous message; null for the room's first message. */
  prevSeq: number | null;
  /** Incarnation of the numbering; a cursor (epoch, seq) is only valid within its epoch. */
  epoch: string;
  clientMsgId: string;
  senderId: string;
  payload: JsonValue;
  /** ISO-8601, when ingest accepted the copy. */
  sentAt: string;
  /** ISO-8601, when the ordering worker persisted it. */
  sequencedAt: string;
}

// ---------------------------------------------------------------------------------------------
// HTTP API (ingest-api)

/**
 * 202 body for one accepted publish. Idempotency is scoped to the sender: the key is
 * (roomId, senderId, clientMsgId), see docs/protocol.md "Idempotency".
 */
export interface PublishResult {
  roomId: string;
  clientMsgId: string;
  partition: number;
  /**
   * The copy's Kafka offset. `duplicate: false`: the copy this request wrote, which becomes the
   * message's seq unless the worker finds an earlier copy. `duplicate: true`: nothing was written;
   * the offset of the earlier copy this instance accepted for the same key and payload.
   */
  offset: number;
  /**
   * True when the ingest instance recognised the request as a retry of a copy it accepted before
   * (same sender, room, clientMsgId and payload). False does not prove the message is new: a
   * retry another instance accepted, or one from before a restart, is still dropped by the worker.
   */
  duplicate: boolean;
  /** Only on duplicates, once the message is stored: its seq (the offset of its first accepted copy). */
  seq?: number;
}

export interface BatchPublishResult {
  results: PublishResult[];
}

export interface HistoryPage {
  roomId: string;
  epoch: string;
  /** Highest seq stored for the room, -1 when the room has no messages. */
  headSeq: number;
  /** Ascending seq whatever the direction, at most `limit`. */
  messages: Message[];
  /** More stored messages lie beyond this page in the direction read (for forward: as of the read). */
  hasMore: boolean;
  /** Forward pages: the afterSeq of the next page (the last seq returned, or the afterSeq asked when empty). */
  nextAfterSeq?: number;
  /** Backward pages with hasMore: the beforeSeq of the next (older) page, i.e. the oldest seq returned. */
  nextBeforeSeq?: number;
}

// ---------------------------------------------------------------------------------------------
// Socket.IO events and payloads, one typed map per direction (docs/protocol.md "edge-gateway")

/** Validated by `subscribeRequestSchema`. */
export interface SubscribeRequest {
  roomId: string;
  /** Deliver messages with seq > afterSeq (-1: the whole retained history); omitted: from now on. */
  afterSeq?: number;
  /** The epoch of the client's cursor; a different current epoch voids the cursor (`reset`). */
  epoch?: string;
  /**
   * Without afterSeq only: replay the room's latest `last` stored messages (1-1000), then live,
   * with the same seam guarantee as a resume (no gap, no duplicate).
   */
  last?: number;
  /** Take part in the room's presence: be listed as a member, and get `presence_join`/`presence_leave`. */
  presence?: boolean;
}

/** Validated by `unsubscribeRequestSchema`. */
export interface UnsubscribeRequest {
  roomId: string;
}

/** Cumulative: everything up to and including `seq` was delivered. Validated by `ackRequestSchema`. */
export interface AckRequest {
  roomId: string;
  seq: number;
}

export interface SubscribeOk {
  ok: true;
  roomId: string;
  epoch: string;
  /** Highest seq stored for the room when the subscription took effect; -1 when empty. */
  headSeq: number;
  /** The client's epoch differed: its cursor is void and delivery starts from retained history. */
  reset?: boolean;
  /** History older than retention was requested; delivery resumes after `resumeAfterSeq`. */
  truncated?: boolean;
  resumeAfterSeq?: number;
}
export interface Failed {
  ok: false;
  error: ErrorBody;
}
export type SubscribeAck = SubscribeOk | Failed;
export type UnsubscribeAck = { ok: true; roomId: string } | Failed;

export interface MessagesEvent {
  roomId: string;
  /** 1..n messages of one room, ascending seq, chained by prevSeq. */
  messages: Message[];
}

export interface ServerRestartEvent {
  reconnectInMs: number;
}

export interface SlowConsumerEvent {
  backlog: { messages: number; bytes: number };
}

/** A fresh token for the live socket (docs/protocol.md "Token lifetime"). Validated by `refreshRequestSchema`. */
export interface RefreshRequest {
  token: string;
}
export interface RefreshOk {
  ok: true;
  /** ISO-8601 `exp` of the new token: the socket's new deadline. */
  expiresAt: string;
  /** Subscriptions the new token no longer grants; each was ended (and announced with `unsubscribed`). */
  revokedRooms: string[];
}
export type RefreshAck = RefreshOk | Failed;

/** Sent once per token, `GATEWAY_TOKEN_REFRESH_LEAD_MS` before its `exp`: answer with `refresh`. */
export interface TokenExpiringEvent {
  /** ISO-8601 `exp` of the socket's current token. */
  expiresAt: string;
}

/** Sent at `exp` when no refresh arrived, right before the gateway disconnects the socket. */
export interface TokenExpiredEvent {
  expiredAt: string;
}

/** List a room's members (docs/protocol.md "Presence"). Validated by `presenceRequestSchema`. */
export interface PresenceRequest {
  roomId: string;
}
export interface PresenceMember {
  /** The token `sub` of a user with at least one socket in the room (on any gateway). */
  userId: string;
  /** ISO-8601: when the user's earliest socket still in the room joined it. */
  since: string;
}
export interface PresenceOk {
  ok: true;
  roomId: string;
  /** At most GATEWAY_PRESENCE_MAX_MEMBERS members, ascending userId. */
  members: PresenceMember[];
  /** More members exist than were listed. */
  truncated: boolean;
}
export type PresenceAck = PresenceOk | Failed;

/** `presence_join` / `presence_leave`: a user's first socket joined / last socket left the room. */
export interface PresenceChangeEvent {
  roomId: string;
  userId: string;
}

/** The gateway ended a subscription the client did not ask to end. */
export interface UnsubscribedEvent {
  roomId: string;
  /** `access_revoked`: a refreshed token no longer grants `subscribe` on the room. */
  reason: 'access_revoked';
}

/**
 * `publish` over the socket the client already holds (docs/protocol.md "Publishing over the
 * socket"): the same body, validation, capability, idempotency and limits as
 * POST /v1/rooms/:roomId/messages, with the room in the request. Validated by `socketPublishRequestSchema`.
 */
export interface SocketPublishRequest {
  roomId: string;
  clientMsgId: string;
  payload: unknown;
}
export interface PublishOk {
  ok: true;
  /** Exactly the HTTP 202 body. */
  result: PublishResult;
}
export interface PublishErrorBody extends ErrorBody {
  /** `rate_limited` and `unavailable`: wait at least this long before retrying (HTTP's Retry-After). */
  retryAfterMs?: number;
}
export interface PublishFailed {
  ok: false;
  error: PublishErrorBody;
}
export type PublishAck = PublishOk | PublishFailed;

export interface ClientToServerEvents {
  subscribe: (request: SubscribeRequest, ack: (response: SubscribeAck) => void) => void;
  unsubscribe: (request: UnsubscribeRequest, ack: (response: UnsubscribeAck) => void) => void;
  ack: (request: AckRequest) => void;
  refresh: (request: RefreshRequest, ack: (response: RefreshAck) => void) => void;
  presence: (request: PresenceRequest, ack: (response: PresenceAck) => void) => void;
  publish: (request: SocketPublishRequest, ack: (response: PublishAck) => void) => void;
}

export interface ServerToClientEvents {
  messages: (event: MessagesEvent) => void;
  server_restart: (event: ServerRestartEvent) => void;
  slow_consumer: (event: SlowConsumerEvent) => void;
  token_expiring: (event: TokenExpiringEvent) => void;
  token_expired: (event: TokenExpiredEvent) => void;
  unsubscribed: (event: UnsubscribedEvent) => void;
  presence_join: (event: PresenceChangeEvent) => void;
  presence_leave: (event: PresenceChangeEvent) => void;
}

/** Handshake: `io(url, { auth: { token } })`. */
export interface HandshakeAuth {
  token: string;
}

/** connect_error message when the handshake token is missing or invalid. */
export const UNAUTHORIZED_CONNECT_ERROR = 'unauthorized';

/** connect_error message while the instance drains for shutdown: connect to another one (retry with backoff). */
export const SERVER_DRAINING_CONNECT_ERROR = 'server_draining';

/**
 * connect_error message when this credential (token `sub` / API key) or this client address already
 * holds as many sockets as the gateway allows: close some, or retry later with backoff.
 */
export const TOO_MANY_CONNECTIONS_CONNECT_ERROR = 'too_many_connections';

/**
 * connect_error message when the instance has as many handshakes in progress as it admits (a
 * reconnect storm): the error's `data` is `ServerBusyData`. Retry after `retryAfterMs` (plus
 * jitter), to this or any instance; the refusal is not a failure of the client.
 */
export const SERVER_BUSY_CONNECT_ERROR = 'server_busy';

/** `data` of the `server_busy` connect_error. */
export interface ServerBusyData {
  /** Milliseconds until this instance expects to admit the client: the earliest moment to retry. */
  retryAfterMs: number;
}
