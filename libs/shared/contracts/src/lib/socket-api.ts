import { z } from 'zod';
import type { ErrorBody } from './errors';
import { roomIdSchema } from './identifiers';
import type { Message } from './message';

/** Socket.IO events and payloads, one typed map per direction (docs/protocol.md "edge-gateway"). */

export const subscribeRequestSchema = z
  .object({
    roomId: roomIdSchema,
    afterSeq: z.number().int().min(-1, 'afterSeq must be >= -1').optional(),
    epoch: z.string().min(1).max(128).optional(),
  })
  .strict();
export type SubscribeRequest = z.infer<typeof subscribeRequestSchema>;

export const unsubscribeRequestSchema = z.object({ roomId: roomIdSchema }).strict();
export type UnsubscribeRequest = z.infer<typeof unsubscribeRequestSchema>;

export const ackRequestSchema = z.object({ roomId: roomIdSchema, seq: z.number().int().nonnegative() }).strict();
export type AckRequest = z.infer<typeof ackRequestSchema>;

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
