import { z } from 'zod';
import type {
  AckRequest,
  PresenceRequest,
  SocketPublishRequest,
  RefreshRequest,
  SubscribeRequest,
  UnsubscribeRequest,
} from '../wire';
import type { Assert, Exact, ExactButPayload } from './exact';
import { publishBodySchema } from './http-api';
import { roomIdSchema } from './identifiers';

/**
 * Validation of the Socket.IO requests the gateway receives. The events, payloads and connect
 * errors themselves (docs/protocol.md "edge-gateway") are plain types in ../wire.ts; each schema
 * here must produce exactly its wire type.
 */

export const subscribeRequestSchema = z
  .object({
    roomId: roomIdSchema,
    afterSeq: z.number().int().min(-1, 'afterSeq must be >= -1').optional(),
    epoch: z.string().min(1).max(128).optional(),
    presence: z.boolean().optional(),
  })
  .strict();
type _SubscribeRequestSchemaMatches = Assert<Exact<z.infer<typeof subscribeRequestSchema>, SubscribeRequest>>;

export const unsubscribeRequestSchema = z.object({ roomId: roomIdSchema }).strict();
type _UnsubscribeRequestSchemaMatches = Assert<Exact<z.infer<typeof unsubscribeRequestSchema>, UnsubscribeRequest>>;

export const ackRequestSchema = z.object({ roomId: roomIdSchema, seq: z.number().int().nonnegative() }).strict();
type _AckRequestSchemaMatches = Assert<Exact<z.infer<typeof ackRequestSchema>, AckRequest>>;

// A JWT is a few hundred bytes to a few KB; the cap keeps a refresh frame from being a memory lever.
export const refreshRequestSchema = z.object({ token: z.string().min(1, 'token is required').max(16_384) }).strict();
type _RefreshRequestSchemaMatches = Assert<Exact<z.infer<typeof refreshRequestSchema>, RefreshRequest>>;

export const presenceRequestSchema = z.object({ roomId: roomIdSchema }).strict();
type _PresenceRequestSchemaMatches = Assert<Exact<z.infer<typeof presenceRequestSchema>, PresenceRequest>>;

/** `publish`: the HTTP publish body (publishBodySchema) plus the room the URL would name. */
export const socketPublishRequestSchema = publishBodySchema.extend({ roomId: roomIdSchema }).strict();
type _SocketPublishRequestSchemaMatches = Assert<ExactButPayload<z.infer<typeof socketPublishRequestSchema>, SocketPublishRequest>>;
