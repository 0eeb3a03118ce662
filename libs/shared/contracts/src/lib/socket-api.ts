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

/** Upper bound of subscribe's `last` (and SSE's `?last=`): the most messages replayed before live. */
export const SUBSCRIBE_LAST_MAX = 1000;

export const subscribeRequestSchema = z
  .object({
    roomId: roomIdSchema,
    afterSeq: z.number().int().min(-1, 'afterSeq must be >= -1').optional(),
    epoch: z.string().min(1).max(128).optional(),
    last: z
      .number()
      .int()
      .min(1, `last must be 1-${SUBSCRIBE_LAST_MAX}`)
      .max(SUBSCRIBE_LAST_MAX, `last must be 1-${SUBSCRIBE_LAST_MAX}`)
      .optional(),
    presence: z.boolean().optional(),
  })
  .strict()
  // A cursor says exactly where to resume; "the latest N" would contradict it, so asking both is an error.
  .refine((r) => r.last === undefined || r.afterSeq === undefined, {
    path: ['last'],
    message: 'last cannot be combined with afterSeq (a cursor resumes exactly)',
  })
  // An epoch only qualifies a cursor; alone it would be silently meaningless, so it is refused (as SSE does).
  .refine((r) => r.epoch === undefined || r.afterSeq !== undefined, {
    path: ['epoch'],
    message: 'epoch is only meaningful together with afterSeq (it names the cursor\'s numbering)',
  });
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
