import type { IngestRecord, JsonValue } from '@seqcast/contracts';
import type { ProducedRecord, RoomRecord } from '@seqcast/kafka';

/** One message to write, already validated against the contract schemas. */
export interface OutgoingMessage {
  roomId: string;
  clientMsgId: string;
  payload: unknown;
}

/** The record value for one message: the sender comes from the credential, never from the body. */
export function buildIngestRecord(message: OutgoingMessage, senderId: string, sentAt: Date): IngestRecord {
  return {
    v: 1,
    roomId: message.roomId,
    clientMsgId: message.clientMsgId,
    senderId,
    // The body came from JSON (an HTTP body or a Socket.IO frame), so whatever passed validation is JSON.
    payload: message.payload as JsonValue,
    sentAt: sentAt.toISOString(),
  };
}

/** The slice of RoomProducer the write path uses, so the publisher can be exercised without a broker. */
export interface RecordProducer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  send(topic: string, records: RoomRecord[]): Promise<ProducedRecord[]>;
}

/** The slice of MessageHistoryRepository a duplicate's answer reads its seq from. */
export interface StoredSeqReader {
  findSeq(key: { roomId: string; senderId: string; clientMsgId: string }): Promise<number | undefined>;
}

export interface PublisherOptions {
  /** SEQCAST_MESSAGES_TOPIC: where accepted messages are written. */
  messagesTopic: string;
  /**
   * How many recently accepted (room, sender, clientMsgId) keys this instance remembers to answer
   * retries (`duplicate: true`) and refuse re-used keys (409) without a database read. About 250
   * bytes each; 0 turns the check off (the ordering worker still applies the rule).
   */
  idempotencyCacheSize?: number;
}

/** Ample for retries within a minute at a few thousand messages per second, at about 25 MB. */
export const DEFAULT_IDEMPOTENCY_CACHE_SIZE = 100_000;

/** Injected so tests can pin `sentAt`. */
export type Clock = () => Date;
