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

/** 202 body for one accepted copy: where it landed in Kafka. */
export interface PublishResult {
  roomId: string;
  clientMsgId: string;
  partition: number;
  /** This copy's offset; equals the message's seq unless the copy is a duplicate. */
  offset: number;
}

export interface BatchPublishResult {
  results: PublishResult[];
}

export interface HistoryPage {
  roomId: string;
  epoch: string;
  /** Highest seq stored for the room, -1 when the room has no messages. */
  headSeq: number;
  messages: Message[];
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

export interface ClientToServerEvents {
  subscribe: (request: SubscribeRequest, ack: (response: SubscribeAck) => void) => void;
  unsubscribe: (request: UnsubscribeRequest, ack: (response: UnsubscribeAck) => void) => void;
  ack: (request: AckRequest) => void;
}

export interface ServerToClientEvents {
  messages: (event: MessagesEvent) => void;
  server_restart: (event: ServerRestartEvent) => void;
  slow_consumer: (event: SlowConsumerEvent) => void;
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
