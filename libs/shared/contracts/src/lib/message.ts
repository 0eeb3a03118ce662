import { datetimeRegex, z } from 'zod';
import type { JsonValue, Message } from '../wire';
import type { Assert, ExactButPayload } from './exact';
import { clientMsgIdSchema, roomIdSchema } from './identifiers';

// JsonValue and Message are plain types in ../wire.ts.

/**
 * The value of a record on the messages (input) topic, JSON encoded, keyed by roomId.
 * `v` lets the format evolve; the worker dead-letters versions it does not know.
 */
export interface IngestRecord {
  v: 1;
  roomId: string;
  clientMsgId: string;
  senderId: string;
  payload: JsonValue;
  sentAt: string;
}

/**
 * An ISO 8601 date-time with an offset, as `z.string().datetime({ offset: true })` accepts it. zod 3
 * builds that check's RegExp on every parse, which was ~5 % of the gateway's CPU (two dates per
 * delivered message); this is the same RegExp, built once. The JSON Schemas still say
 * `format: date-time` (api-docs maps this schema back to it).
 */
export const isoDateTimeSchema = z
  .string()
  .regex(datetimeRegex({ offset: true, precision: null, local: false }), 'Invalid datetime');
const isoDate = isoDateTimeSchema;

export const ingestRecordSchema = z
  .object({
    v: z.literal(1),
    roomId: roomIdSchema,
    clientMsgId: clientMsgIdSchema,
    senderId: z.string().min(1).max(256),
    payload: z.unknown().refine((v) => v !== undefined, 'is required'),
    sentAt: isoDate,
  })
  .strict();
type _IngestRecordSchemaMatches = Assert<ExactButPayload<z.infer<typeof ingestRecordSchema>, IngestRecord>>;

/** A Message as read back from the events topic; its payload is left `unknown` (see ExactButPayload). */
export const messageSchema = z
  .object({
    roomId: roomIdSchema,
    seq: z.number().int().nonnegative(),
    prevSeq: z.number().int().nonnegative().nullable(),
    epoch: z.string().min(1),
    clientMsgId: clientMsgIdSchema,
    senderId: z.string().min(1),
    payload: z.unknown(),
    sentAt: isoDate,
    sequencedAt: isoDate,
  })
  .strict();
type _MessageSchemaMatches = Assert<ExactButPayload<z.infer<typeof messageSchema>, Message>>;

/** Kafka offsets are int64; seqs travel as JSON numbers, exact up to 2^53 - 1. */
export const NO_SEQ = -1;
