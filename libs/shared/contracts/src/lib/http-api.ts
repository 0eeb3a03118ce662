import { z } from 'zod';
import type { BatchPublishResult, PublishResult } from '../wire';
import type { Assert, Exact } from './exact';
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

/**
 * Query of GET /v1/rooms/:roomId/messages. Forward (the default) pages up from `afterSeq`;
 * backward returns the latest `limit` messages below `beforeSeq` (omitted: the room's latest), so a
 * client can ask for "the last 50" without knowing the (non-contiguous) seqs. A `beforeSeq` alone
 * means backward. Every page is in ascending seq whatever the direction.
 */
export const historyQuerySchema = z
  .object({
    direction: z
      .enum(['forward', 'backward'], { message: "direction must be 'forward' or 'backward'" })
      .optional()
      .describe("'forward' (default; 'backward' when beforeSeq is given): which end of the room the page is taken from."),
    afterSeq: intString('afterSeq')
      .pipe(z.number().int().min(-1, 'afterSeq must be >= -1'))
      .optional()
      .describe('Forward only: deliver seq > afterSeq; -1 (default) is the start of retained history.'),
    beforeSeq: intString('beforeSeq')
      .pipe(z.number().int().min(0, 'beforeSeq must be >= 0'))
      .optional()
      .describe("Backward only: the latest messages with seq < beforeSeq (a previous page's nextBeforeSeq); omitted: the room's latest."),
    limit: intString('limit')
      .pipe(z.number().int().min(1, 'limit must be 1-1000').max(HISTORY_LIMIT_MAX, 'limit must be 1-1000'))
      .default(String(HISTORY_LIMIT_DEFAULT)),
  })
  .superRefine((q, ctx) => {
    if (q.afterSeq !== undefined && q.beforeSeq !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['beforeSeq'], message: 'beforeSeq cannot be combined with afterSeq' });
    } else if (q.direction === 'backward' && q.afterSeq !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['afterSeq'], message: 'afterSeq is forward only; use beforeSeq with direction=backward' });
    } else if (q.direction === 'forward' && q.beforeSeq !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['beforeSeq'], message: 'beforeSeq is backward only; use afterSeq with direction=forward' });
    }
  })
  .transform(
    (q): HistoryQuery =>
      (q.direction ?? (q.beforeSeq === undefined ? 'forward' : 'backward')) === 'forward'
        ? { direction: 'forward', afterSeq: q.afterSeq ?? -1, limit: q.limit }
        : { direction: 'backward', ...(q.beforeSeq === undefined ? {} : { beforeSeq: q.beforeSeq }), limit: q.limit },
  );
/** A validated history query: where the page starts, and how many messages at most. */
export type HistoryQuery =
  | { direction: 'forward'; afterSeq: number; limit: number }
  | { direction: 'backward'; beforeSeq?: number; limit: number };

// PublishResult, BatchPublishResult and HistoryPage (the response bodies) are plain types in ../wire.ts;
// the publish responses also have schemas, for tests and clients that check what the server sends.

const offsetSchema = z.number().int().nonnegative();

/** 202 body of POST /v1/rooms/:roomId/messages (and each item of a batch's `results`). */
export const publishResultSchema = z
  .object({
    roomId: roomIdSchema,
    clientMsgId: clientMsgIdSchema,
    partition: z.number().int().nonnegative(),
    offset: offsetSchema,
    duplicate: z.boolean(),
    seq: offsetSchema.optional(),
  })
  .strict()
  .refine((r) => r.seq === undefined || r.duplicate, 'seq is only sent on duplicates');
type _PublishResultSchemaMatches = Assert<Exact<z.infer<typeof publishResultSchema>, PublishResult>>;

/** 202 body of POST /v1/messages/batch. */
export const batchPublishResultSchema = z.object({ results: z.array(publishResultSchema) }).strict();
type _BatchPublishResultSchemaMatches = Assert<Exact<z.infer<typeof batchPublishResultSchema>, BatchPublishResult>>;
