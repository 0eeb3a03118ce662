import type { Message } from '@seqcast/contracts';

/**
 * What the gateway reads from PostgreSQL. MessageHistoryRepository (@seqcast/persistence)
 * implements it; unit tests use an in-memory one.
 */
export interface MessageHistory {
  currentEpoch(): Promise<string>;
  /** -1 when the room has no messages. */
  headSeq(roomId: string): Promise<number>;
  /** Ascending seq, seq > afterSeq, current epoch, at most `limit`. */
  findAfter(roomId: string, afterSeq: number, limit: number): Promise<Message[]>;
}

export const MESSAGE_HISTORY = Symbol('MESSAGE_HISTORY');
export const SUBSCRIPTION_OPTIONS = Symbol('SUBSCRIPTION_OPTIONS');
export const EVENTS_CONSUMER_OPTIONS = Symbol('EVENTS_CONSUMER_OPTIONS');
export const TOKEN_VERIFIER = Symbol('TOKEN_VERIFIER');
export const TOKEN_LIFETIME_OPTIONS = Symbol('TOKEN_LIFETIME_OPTIONS');
export const KAFKA_CLIENT = Symbol('KAFKA_CLIENT');
export const DRAIN_OPTIONS = Symbol('DRAIN_OPTIONS');
/** The PartitionInterest of the events consumer (absent: every partition is fetched). */
export const PARTITION_INTEREST = Symbol('PARTITION_INTEREST');
