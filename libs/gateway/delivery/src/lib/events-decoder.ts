/**
 * Turns one partition batch of the events topic into per-room runs of Messages. A record that is
 * not a valid Message (poison) is reported and skipped: one bad record must never stall a partition.
 */
import { type JsonValue, type Message, messageSchema, validate } from '@seqcast/contracts';
import { rememberEncodedBytes } from './message-meta';

/** The part of a kafkajs KafkaMessage the decoder reads. */
export interface EventRecord {
  offset: string;
  value: Buffer | null;
}

export interface PoisonRecord {
  offset: string;
  reason: string;
}

export interface DecodedBatch {
  /** Rooms in order of first appearance; each room's messages in partition (= seq) order. */
  byRoom: Map<string, Message[]>;
  poison: PoisonRecord[];
}

const MAX_REASON = 300;

export function decodeEventBatch(records: readonly EventRecord[]): DecodedBatch {
  const byRoom = new Map<string, Message[]>();
  const poison: PoisonRecord[] = [];
  for (const record of records) {
    const decoded = decodeEvent(record.value);
    if (!decoded.ok) {
      poison.push({ offset: record.offset, reason: decoded.reason.slice(0, MAX_REASON) });
      continue;
    }
    const run = byRoom.get(decoded.message.roomId);
    if (run) run.push(decoded.message);
    else byRoom.set(decoded.message.roomId, [decoded.message]);
  }
  return { byRoom, poison };
}

function decodeEvent(value: Buffer | null): { ok: true; message: Message } | { ok: false; reason: string } {
  if (value === null) return { ok: false, reason: 'record has no value' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch {
    return { ok: false, reason: 'value is not JSON' };
  }
  const result = validate(messageSchema, parsed);
  if (!result.ok) return { ok: false, reason: `not a Message: ${result.message}` };
  // The value came out of JSON.parse, so its payload is JSON by construction.
  const message: Message = { ...result.value, payload: result.value.payload as JsonValue };
  rememberEncodedBytes(message, value.length);
  return { ok: true, message };
}
