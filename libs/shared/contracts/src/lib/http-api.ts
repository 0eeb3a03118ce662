import { z } from 'zod';
import { clientMsgIdSchema, roomIdSchema } from './identifiers';

export const MAX_BATCH_MESSAGES = 500;
export const HISTORY_LIMIT_MAX = 1000;
export const HISTORY_LIMIT_DEFAULT = 100;

const payloadSchema = z.unknown().refine((v) => v !== undefined, 'is required');

/** Body of POST /v1/rooms/:roomId/messages. */
export const publishBodySchema = z.object({ clientMsgId: clientMsgIdSchema, payload: payloadSchema }).strict();
export type PublishBody = z.infer<typeof publishBodySchema>;

/** Body of POST /v1/messages/batch, validated as a whole: one bad item rejects the request. */
export const batchBodySchema = z
  .object({
    messages: z
      .array(z.object({ roomId: roomIdSchema, clientMsgId: clientMsgIdSchema, payload: payloadSchema }).strict())
      .min(1, 'must hold 1-500 messages')
      .max(MAX_BATCH_MESSAGES, 'must hold 1-500 messages'),
  })
  .strict();
export type BatchBody = z.infer<typeof batchBodySchema>;

const intString = (name: string) =>
  z
    .string()
    .regex(/^-?\d{1,16}$/, `${name} must be an integer`)
    .transform(Number);

/** Query of GET /v1/rooms/:roomId/messages. */
export const historyQuerySchema = z.object({
  afterSeq: intString('afterSeq')
    .pipe(z.number().int().min(-1, 'afterSeq must be >= -1'))
    .default('-1'),
  limit: intString('limit')
    .pipe(z.number().int().min(1, 'limit must be 1-1000').max(HISTORY_LIMIT_MAX, 'limit must be 1-1000'))
    .default(String(HISTORY_LIMIT_DEFAULT)),
});
export type HistoryQuery = z.infer<typeof historyQuerySchema>;

// PublishResult, BatchPublishResult and HistoryPage (the response bodies) are plain types in ../wire.ts.
