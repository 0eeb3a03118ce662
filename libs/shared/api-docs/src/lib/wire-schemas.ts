import {
  ackRequestSchema,
  batchBodySchema,
  ErrorCode,
  historyQuerySchema,
  ingestRecordSchema,
  messageSchema,
  presenceRequestSchema,
  publishBodySchema,
  socketPublishRequestSchema,
  refreshRequestSchema,
  subscribeRequestSchema,
  unsubscribeRequestSchema,
} from '@seqcast/contracts';
import type {
  BatchPublishResult,
  ErrorEnvelope,
  HandshakeAuth,
  HistoryPage,
  JsonValue,
  Message,
  MessagesEvent,
  PresenceAck,
  PresenceChangeEvent,
  PublishAck,
  PublishResult,
  RefreshAck,
  ServerRestartEvent,
  SlowConsumerEvent,
  SubscribeAck,
  TokenExpiredEvent,
  TokenExpiringEvent,
  UnsubscribeAck,
  UnsubscribedEvent,
} from '@seqcast/contracts/wire';
import { z } from 'zod';

// The same identity test as libs/shared/contracts/src/lib/exact.ts (not exported there).
type Exact<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Assert<T extends true> = T;

/*
 * Requests are validated by the zod schemas of @seqcast/contracts and are documented from exactly
 * those. Responses and server-sent events are plain types in @seqcast/contracts/wire (the servers
 * build them, nothing parses them), so the schemas below describe them; each is pinned to its wire
 * type with Exact, so a field added to a wire type and not here fails `tsc` (and the generate
 * target, which depends on typecheck) instead of publishing a stale document.
 */

/** Any JSON value; typed as JsonValue so Exact holds, documented as `{}` (anything). */
const jsonValue = z
  .custom<JsonValue>((value) => value !== undefined, 'is required')
  .describe("The publisher's JSON value, unchanged (any JSON, including null).");

/** The message schema of the contracts with the payload typed as JSON, so it matches Message exactly. */
export const messageDocSchema = messageSchema.extend({ payload: jsonValue });
type _Message = Assert<Exact<z.infer<typeof messageDocSchema>, Message>>;

export const errorEnvelopeSchema = z
  .object({
    error: z
      .object({
        code: z.nativeEnum(ErrorCode).describe('Stable; programs branch on it.'),
        message: z.string().describe('For humans; may change.'),
      })
      .strict(),
  })
  .strict();
type _ErrorEnvelope = Assert<Exact<z.infer<typeof errorEnvelopeSchema>, ErrorEnvelope>>;

const int = () => z.number().int();

export const publishResultSchema = z
  .object({
    roomId: z.string(),
    clientMsgId: z.string(),
    partition: int().nonnegative(),
    offset: int()
      .nonnegative()
      .describe(
        'duplicate false: the Kafka offset of the copy this request wrote, which becomes the seq unless the worker finds an earlier copy. duplicate true: nothing was written; the offset of the earlier copy.',
      ),
    duplicate: z
      .boolean()
      .describe(
        'True when this ingest instance recognised a retry of a copy it accepted before (same sender, room, clientMsgId and payload). False does not prove the message is new.',
      ),
    seq: int()
      .nonnegative()
      .optional()
      .describe("Only with duplicate true, once the message is stored: its seq (the first accepted copy's offset)."),
  })
  .strict();
type _PublishResult = Assert<Exact<z.infer<typeof publishResultSchema>, PublishResult>>;

export const batchPublishResultSchema = z
  .object({ results: z.array(publishResultSchema).describe('results[i] describes messages[i] of the request.') })
  .strict();
type _BatchPublishResult = Assert<Exact<z.infer<typeof batchPublishResultSchema>, BatchPublishResult>>;

export const historyPageSchema = z
  .object({
    roomId: z.string(),
    epoch: z.string(),
    headSeq: int().min(-1).describe('Highest seq stored for the room, -1 when the room has no messages.'),
    messages: z.array(messageDocSchema).describe('Ascending seq whatever the direction, at most `limit`.'),
    hasMore: z.boolean().describe('More stored messages lie beyond this page in the direction read.'),
    nextAfterSeq: int()
      .min(-1)
      .optional()
      .describe('Forward pages: afterSeq of the next page (last seq returned, or the afterSeq asked when empty).'),
    nextBeforeSeq: int()
      .min(0)
      .optional()
      .describe('Backward pages with hasMore: beforeSeq of the next, older page (the oldest seq returned).'),
  })
  .strict();
type _HistoryPage = Assert<Exact<z.infer<typeof historyPageSchema>, HistoryPage>>;

export const handshakeAuthSchema = z.object({ token: z.string().describe('HS256 JWT, see Authentication.') });
type _HandshakeAuth = Assert<Exact<z.infer<typeof handshakeAuthSchema>, HandshakeAuth>>;

const failedAckSchema = z.object({ ok: z.literal(false), error: errorEnvelopeSchema.shape.error }).strict();

export const subscribeAckSchema = z.union([
  z
    .object({
      ok: z.literal(true),
      roomId: z.string(),
      epoch: z.string(),
      headSeq: int().min(-1).describe('Highest seq stored when the subscription took effect; -1 when empty.'),
      reset: z.boolean().optional().describe("The client's epoch differed: its cursor is void."),
      truncated: z.boolean().optional().describe('History older than retention was requested.'),
      resumeAfterSeq: int().optional().describe('With truncated: delivery resumes after this seq.'),
    })
    .strict(),
  failedAckSchema,
]);
type _SubscribeAck = Assert<Exact<z.infer<typeof subscribeAckSchema>, SubscribeAck>>;

export const unsubscribeAckSchema = z.union([
  z.object({ ok: z.literal(true), roomId: z.string() }).strict(),
  failedAckSchema,
]);
type _UnsubscribeAck = Assert<Exact<z.infer<typeof unsubscribeAckSchema>, UnsubscribeAck>>;

export const messagesEventSchema = z
  .object({
    roomId: z.string(),
    messages: z.array(messageDocSchema).min(1).describe('One room, ascending seq, chained by prevSeq.'),
  })
  .strict();
type _MessagesEvent = Assert<Exact<z.infer<typeof messagesEventSchema>, MessagesEvent>>;

export const serverRestartEventSchema = z.object({ reconnectInMs: int().nonnegative() }).strict();
type _ServerRestartEvent = Assert<Exact<z.infer<typeof serverRestartEventSchema>, ServerRestartEvent>>;

export const slowConsumerEventSchema = z
  .object({ backlog: z.object({ messages: int().nonnegative(), bytes: int().nonnegative() }).strict() })
  .strict();
type _SlowConsumerEvent = Assert<Exact<z.infer<typeof slowConsumerEventSchema>, SlowConsumerEvent>>;

const isoTime = () => z.string().describe('ISO-8601.');

export const refreshAckSchema = z.union([
  z
    .object({
      ok: z.literal(true),
      expiresAt: isoTime().describe("ISO-8601 `exp` of the new token: the socket's new deadline."),
      revokedRooms: z
        .array(z.string())
        .describe('Subscriptions the new token no longer grants; each was ended and announced with `unsubscribed`.'),
    })
    .strict(),
  failedAckSchema,
]);
type _RefreshAck = Assert<Exact<z.infer<typeof refreshAckSchema>, RefreshAck>>;

export const tokenExpiringEventSchema = z
  .object({ expiresAt: isoTime().describe("ISO-8601 `exp` of the socket's current token.") })
  .strict();
type _TokenExpiringEvent = Assert<Exact<z.infer<typeof tokenExpiringEventSchema>, TokenExpiringEvent>>;

export const tokenExpiredEventSchema = z
  .object({ expiredAt: isoTime().describe('ISO-8601 `exp` that passed without a refresh.') })
  .strict();
type _TokenExpiredEvent = Assert<Exact<z.infer<typeof tokenExpiredEventSchema>, TokenExpiredEvent>>;

export const unsubscribedEventSchema = z
  .object({
    roomId: z.string(),
    reason: z
      .literal('access_revoked')
      .describe('access_revoked: a refreshed token no longer grants `subscribe` on the room.'),
  })
  .strict();
type _UnsubscribedEvent = Assert<Exact<z.infer<typeof unsubscribedEventSchema>, UnsubscribedEvent>>;

export const presenceAckSchema = z.union([
  z
    .object({
      ok: z.literal(true),
      roomId: z.string(),
      members: z
        .array(
          z
            .object({
              userId: z.string().describe('The token `sub` of a user with at least one socket in the room.'),
              since: isoTime().describe("When the user's earliest socket still in the room joined it."),
            })
            .strict(),
        )
        .describe('At most GATEWAY_PRESENCE_MAX_MEMBERS members, ascending userId.'),
      truncated: z.boolean().describe('More members exist than were listed.'),
    })
    .strict(),
  failedAckSchema,
]);
type _PresenceAck = Assert<Exact<z.infer<typeof presenceAckSchema>, PresenceAck>>;

export const presenceChangeEventSchema = z.object({ roomId: z.string(), userId: z.string() }).strict();
type _PresenceChangeEvent = Assert<Exact<z.infer<typeof presenceChangeEventSchema>, PresenceChangeEvent>>;

export const publishAckSchema = z.union([
  z.object({ ok: z.literal(true), result: publishResultSchema.describe('Exactly the HTTP 202 body.') }).strict(),
  z
    .object({
      ok: z.literal(false),
      error: errorEnvelopeSchema.shape.error
        .extend({
          retryAfterMs: int()
            .min(0)
            .optional()
            .describe('rate_limited and unavailable: wait at least this long before retrying (the HTTP Retry-After).'),
        })
        .strict(),
    })
    .strict(),
]);
type _PublishAck = Assert<Exact<z.infer<typeof publishAckSchema>, PublishAck>>;

export interface WireSchema {
  /** File name under docs/schemas/ (without `.json`) and the component name in the documents. */
  name: string;
  title: string;
  description: string;
  schema: z.ZodTypeAny;
}

/** Every wire type, in the order the documents list them. */
export const WIRE_SCHEMAS: readonly WireSchema[] = [
  {
    name: 'Message',
    title: 'Message',
    description: 'A sequenced message, the same wherever it is delivered.',
    schema: messageDocSchema,
  },
  {
    name: 'ErrorEnvelope',
    title: 'Error body',
    description: 'Every HTTP error body, and `error` in failed socket acks.',
    schema: errorEnvelopeSchema,
  },
  {
    name: 'PublishRequest',
    title: 'POST /v1/rooms/{roomId}/messages body',
    description: 'One message to publish.',
    schema: publishBodySchema,
  },
  {
    name: 'PublishResponse',
    title: 'POST /v1/rooms/{roomId}/messages 202 body',
    description: 'Where the accepted copy landed in Kafka.',
    schema: publishResultSchema,
  },
  {
    name: 'BatchRequest',
    title: 'POST /v1/messages/batch body',
    description: '1-500 messages, validated as a whole.',
    schema: batchBodySchema,
  },
  {
    name: 'BatchResponse',
    title: 'POST /v1/messages/batch 202 body',
    description: 'One result per request item, in order.',
    schema: batchPublishResultSchema,
  },
  {
    name: 'HistoryQuery',
    title: 'GET /v1/rooms/{roomId}/messages query',
    description: 'Query parameters, as strings.',
    schema: historyQuerySchema,
  },
  {
    name: 'HistoryPage',
    title: 'GET /v1/rooms/{roomId}/messages 200 body',
    description: 'One page of history.',
    schema: historyPageSchema,
  },
  {
    name: 'HandshakeAuth',
    title: 'Socket.IO handshake auth',
    description: 'The CONNECT packet payload.',
    schema: handshakeAuthSchema,
  },
  {
    name: 'SubscribeRequest',
    title: 'subscribe (client to server)',
    description: 'Subscribe to a room, optionally resuming after a cursor, or replaying its latest `last` messages (1-1000) first; last with afterSeq is invalid_request.',
    schema: subscribeRequestSchema,
  },
  {
    name: 'SubscribeAck',
    title: 'subscribe acknowledgement',
    description: 'The ack of subscribe.',
    schema: subscribeAckSchema,
  },
  {
    name: 'UnsubscribeRequest',
    title: 'unsubscribe (client to server)',
    description: 'Stop delivery of a room.',
    schema: unsubscribeRequestSchema,
  },
  {
    name: 'UnsubscribeAck',
    title: 'unsubscribe acknowledgement',
    description: 'The ack of unsubscribe.',
    schema: unsubscribeAckSchema,
  },
  {
    name: 'AckRequest',
    title: 'ack (client to server)',
    description: 'Cumulative: everything up to and including seq was delivered.',
    schema: ackRequestSchema,
  },
  {
    name: 'RefreshRequest',
    title: 'refresh (client to server)',
    description: 'A fresh token for the live socket; always sent with an ack id.',
    schema: refreshRequestSchema,
  },
  {
    name: 'RefreshAck',
    title: 'refresh acknowledgement',
    description: 'The ack of refresh; a failure leaves the socket and its deadline as they were.',
    schema: refreshAckSchema,
  },
  {
    name: 'PresenceRequest',
    title: 'presence (client to server)',
    description: "List a room's members; always sent with an ack id.",
    schema: presenceRequestSchema,
  },
  {
    name: 'PresenceAck',
    title: 'presence acknowledgement',
    description: "The room's members across gateways.",
    schema: presenceAckSchema,
  },
  {
    name: 'SocketPublishRequest',
    title: 'publish (client to server)',
    description: 'POST /v1/rooms/{roomId}/messages over the socket: the same body plus roomId; always sent with an ack id.',
    schema: socketPublishRequestSchema,
  },
  {
    name: 'SocketPublishAck',
    title: 'publish acknowledgement',
    description: 'The HTTP 202 body as result, or the HTTP error code (with retryAfterMs for rate_limited and unavailable).',
    schema: publishAckSchema,
  },
  {
    name: 'PresenceChangeEvent',
    title: 'presence_join / presence_leave (server to client)',
    description: "A user's first socket joined, or last socket left, a room this socket takes part in the presence of.",
    schema: presenceChangeEventSchema,
  },
  {
    name: 'MessagesEvent',
    title: 'messages (server to client)',
    description: "A batch of one room's messages.",
    schema: messagesEventSchema,
  },
  {
    name: 'ServerRestartEvent',
    title: 'server_restart (server to client)',
    description: 'The gateway drains; reconnect after the delay.',
    schema: serverRestartEventSchema,
  },
  {
    name: 'SlowConsumerEvent',
    title: 'slow_consumer (server to client)',
    description: 'The client fell too far behind and is disconnected.',
    schema: slowConsumerEventSchema,
  },
  {
    name: 'TokenExpiringEvent',
    title: 'token_expiring (server to client)',
    description: 'The token expires soon: answer with refresh.',
    schema: tokenExpiringEventSchema,
  },
  {
    name: 'TokenExpiredEvent',
    title: 'token_expired (server to client)',
    description: 'No refresh arrived before exp; the gateway disconnects right after.',
    schema: tokenExpiredEventSchema,
  },
  {
    name: 'UnsubscribedEvent',
    title: 'unsubscribed (server to client)',
    description: 'The gateway ended a subscription the client did not ask to end.',
    schema: unsubscribedEventSchema,
  },
  {
    name: 'IngestRecord',
    title: 'seqcast.messages record value',
    description: 'Input topic record, keyed by room id.',
    schema: ingestRecordSchema,
  },
];
