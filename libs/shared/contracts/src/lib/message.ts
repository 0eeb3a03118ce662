import { z } from 'zod';
import { clientMsgIdSchema, roomIdSchema } from './identifiers';

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

const isoDate = z.string().datetime({ offset: true });

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

/** Kafka offsets are int64; seqs travel as JSON numbers, exact up to 2^53 - 1. */
export const NO_SEQ = -1;
