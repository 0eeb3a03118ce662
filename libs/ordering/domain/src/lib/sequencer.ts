/**
 * The sequencing rule, pure: given one partition's records in offset order, what is already
 * stored and each room's head, decide for every record whether it becomes a message (seq = its
 * offset, chained to the room's previous seq), is a duplicate of an accepted copy (dropped), or is
 * poison (dead-lettered with a reason, so it can never block the partition).
 *
 * Idempotency is per sender: the key is (roomId, senderId, clientMsgId), so two senders that pick
 * the same clientMsgId both get their message. A copy under an accepted key is a duplicate when its
 * payload matches (a retry); with a different payload it is a conflict: the key was re-used for a
 * different message, which is dead-lettered with a reason rather than dropped without a trace.
 */
import {
  describeZodError,
  ingestRecordSchema,
  type IngestRecord,
  type JsonValue,
  type Message,
  payloadFingerprint,
} from '@seqcast/contracts';
import { partitionForRoom } from '@seqcast/room-partitioner';
import {
  type DeadLetterRecord,
  type IdempotencyKey,
  idempotencyKey,
  type KnownState,
  type SequencedBatch,
} from './sequencer-store.port';

/** A record of the messages topic as it came off the wire. */
export interface InputRecord {
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
}

export type DecodedRecord =
  | { kind: 'valid'; offset: number; record: IngestRecord }
  | { kind: 'invalid'; offset: number; deadLetter: DeadLetterRecord };

export interface PartitionContext {
  /** The partition the records were read from. */
  partition: number;
  /** Partition count of the messages topic, to check each room hashes here. */
  partitions: number;
}

export interface Duplicate extends IdempotencyKey {
  offset: number;
  /** Where the accepted copy is: already stored, or earlier in this batch. */
  of: 'stored' | 'batch';
  /** seq of the accepted copy. */
  seq: number;
}

/** A key re-used with a different payload: the copy is dead-lettered (also in `deadLetters`). */
export type Conflict = Duplicate;

export interface SequenceResult extends SequencedBatch {
  messages: Message[];
  fingerprints: string[];
  deadLetters: DeadLetterRecord[];
  duplicates: Duplicate[];
  conflicts: Conflict[];
}

export interface SequenceContext {
  epoch: string;
  now: Date;
  known: KnownState;
}

const REASON_MAX = 1000;
const BASE64_PREFIX = 'base64:';
const utf8 = new TextDecoder('utf-8', { fatal: true });
// PostgreSQL text and jsonb reject NUL and unpaired UTF-16 surrogates (node-postgres would
// silently replace the latter); a record carrying them must be dead-lettered, not retried forever.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function unstorable(text: string): boolean {
  return text.includes('\u0000') || LONE_SURROGATE.test(text);
}

// timestamptz accepts years 1-294276 but ISO-8601 output past 9999 would not round-trip.
const MIN_TIME = Date.parse('0001-01-01T00:00:00.000Z');
const MAX_TIME = Date.parse('9999-12-31T23:59:59.999Z');

function decodeUtf8(bytes: Buffer): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** Raw key/value as storable text: UTF-8 as is, otherwise (or if ambiguous) `base64:` + base64. */
export function encodeRaw(bytes: Buffer | null): string | null {
  if (bytes === null) return null;
  const text = decodeUtf8(bytes);
  if (text !== undefined && !unstorable(text) && !text.startsWith(BASE64_PREFIX)) return text;
  return BASE64_PREFIX + bytes.toString('base64');
}

function sanitizeReason(reason: string): string {
  const safe = reason.replaceAll('\u0000', '\uFFFD').replace(new RegExp(LONE_SURROGATE.source, 'g'), '\uFFFD');
  return safe.length > REASON_MAX ? `${safe.slice(0, REASON_MAX - 1)}…` : safe;
}

function isStorableJson(value: unknown): boolean {
  if (typeof value === 'string') return !unstorable(value);
  if (Array.isArray(value)) return value.every(isStorableJson);
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).every(([key, inner]) => !unstorable(key) && isStorableJson(inner));
  }
  return true;
}

/** Why the record cannot be sequenced, or its parsed content. */
function check(input: InputRecord, context: PartitionContext): string | IngestRecord {
  if (input.value === null) return 'record has no value';
  const text = decodeUtf8(input.value);
  if (text === undefined) return 'value is not UTF-8 text';
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return `value is not JSON: ${error instanceof Error ? error.message : String(error)}`;
  }
  const parsed = ingestRecordSchema.safeParse(json);
  if (!parsed.success) return `invalid ingest record: ${describeZodError(parsed.error)}`;
  const record = parsed.data as IngestRecord;
  const key = input.key === null ? null : decodeUtf8(input.key);
  if (key !== record.roomId) {
    const shown = input.key === null ? 'no key' : `key ${JSON.stringify(key ?? encodeRaw(input.key))}`;
    return `${shown} does not match roomId "${record.roomId}"`;
  }
  const home = partitionForRoom(record.roomId, context.partitions);
  if (home !== context.partition) {
    return `room "${record.roomId}" belongs to partition ${home} of ${context.partitions}, record is in partition ${context.partition}`;
  }
  if (unstorable(record.senderId) || !isStorableJson(record.payload)) {
    return 'senderId or payload contains text PostgreSQL cannot store (NUL or unpaired surrogate)';
  }
  const sentAt = Date.parse(record.sentAt);
  if (!(sentAt >= MIN_TIME && sentAt <= MAX_TIME)) return 'sentAt must lie within years 0001-9999 (UTC)';
  return record;
}

export function decodeRecord(input: InputRecord, context: PartitionContext): DecodedRecord {
  const outcome = check(input, context);
  if (typeof outcome !== 'string') return { kind: 'valid', offset: input.offset, record: outcome };
  return {
    kind: 'invalid',
    offset: input.offset,
    deadLetter: {
      offset: input.offset,
      reason: sanitizeReason(outcome),
      key: encodeRaw(input.key),
      value: encodeRaw(input.value),
    },
  };
}

/** The rooms and idempotency keys the store must look up before `sequenceRecords` can decide. */
export function lookupKeys(decoded: DecodedRecord[]): { roomIds: string[]; ids: IdempotencyKey[] } {
  const roomIds = new Set<string>();
  const ids: IdempotencyKey[] = [];
  for (const item of decoded) {
    if (item.kind !== 'valid') continue;
    const { roomId, senderId, clientMsgId } = item.record;
    roomIds.add(roomId);
    ids.push({ roomId, senderId, clientMsgId });
  }
  return { roomIds: [...roomIds], ids };
}

export function conflictReason(conflict: Conflict): string {
  const where = conflict.of === 'stored' ? `stored as seq ${conflict.seq}` : `accepted at offset ${conflict.seq} in this batch`;
  return sanitizeReason(
    `idempotency_conflict: sender ${JSON.stringify(conflict.senderId)} re-used clientMsgId ` +
      `"${conflict.clientMsgId}" in room "${conflict.roomId}" for a different payload; the message ${where} ` +
      `keeps the first payload and this copy was not stored`,
  );
}

export function sequenceRecords(decoded: DecodedRecord[], context: SequenceContext): SequenceResult {
  const result: SequenceResult = {
    messages: [],
    fingerprints: [],
    deadLetters: [],
    duplicates: [],
    conflicts: [],
  };
  const heads = new Map(context.known.heads);
  /** Keys accepted earlier in this batch → seq and fingerprint. */
  const accepted = new Map<string, { seq: number; fingerprint: string }>();
  const sequencedAt = context.now.toISOString();
  for (const item of decoded) {
    if (item.kind === 'invalid') {
      result.deadLetters.push(item.deadLetter);
      continue;
    }
    const { roomId, senderId, clientMsgId } = item.record;
    const key = idempotencyKey(item.record);
    const fingerprint = payloadFingerprint(item.record.payload);
    const stored = context.known.stored.get(key);
    const inBatch = accepted.get(key);
    const earlier = stored
      ? { of: 'stored' as const, ...stored }
      : inBatch
        ? { of: 'batch' as const, ...inBatch }
        : undefined;
    if (earlier) {
      const copy = { offset: item.offset, roomId, senderId, clientMsgId, of: earlier.of, seq: earlier.seq };
      // A stored v1 row has no fingerprint: nothing to compare, so it is treated as a retry, as in v1.
      if (earlier.fingerprint === null || earlier.fingerprint === fingerprint) {
        result.duplicates.push(copy);
      } else {
        result.conflicts.push(copy);
        result.deadLetters.push({
          offset: item.offset,
          reason: conflictReason(copy),
          key: roomId,
          value: JSON.stringify(item.record),
        });
      }
      continue;
    }
    const head = heads.get(roomId);
    if (head !== undefined && head >= item.offset) {
      // Only possible if the room's history did not come from this partition's log (e.g. the
      // partition count changed under us): never write a chain that runs backwards.
      result.deadLetters.push({
        offset: item.offset,
        reason: `room "${roomId}" already has seq ${head}, not below this offset`,
        key: roomId,
        value: JSON.stringify(item.record),
      });
      continue;
    }
    accepted.set(key, { seq: item.offset, fingerprint });
    heads.set(roomId, item.offset);
    result.fingerprints.push(fingerprint);
    result.messages.push({
      roomId,
      seq: item.offset,
      prevSeq: head ?? null,
      epoch: context.epoch,
      clientMsgId,
      senderId,
      payload: item.record.payload as JsonValue,
      // Normalised so the event, the stored row and history all carry the identical string.
      sentAt: new Date(item.record.sentAt).toISOString(),
      sequencedAt,
    });
  }
  return result;
}

/** The whole rule for one batch: decode every record, then sequence against what is known. */
export function sequenceBatch(records: InputRecord[], context: PartitionContext & SequenceContext): SequenceResult {
  return sequenceRecords(
    records.map((record) => decodeRecord(record, context)),
    context,
  );
}
