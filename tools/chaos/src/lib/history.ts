/**
 * What a chaos run writes down, and all the checker looks at. Times are milliseconds on the
 * recorder's own monotonic clock (see clock.ts), never a client's (possibly skewed) Date.now.
 */

export type PublishOutcome =
  /** 202 with an offset: the message is acknowledged; from here on losing it is a bug. */
  | 'ok'
  /** 503 (Retry-After): the documented "retry the same ids". */
  | 'unavailable'
  /** Any other HTTP answer. */
  | 'rejected'
  /** Connection refused/reset, or no answer within the attempt's deadline. */
  | 'network';

export interface PublishAttempt {
  roomId: string;
  clientMsgId: string;
  /** 1 for the first try; retries reuse the clientMsgId. */
  attempt: number;
  startedAt: number;
  endedAt: number;
  outcome: PublishOutcome;
  /** With outcome `ok`: the Kafka offset ingest-api reported. */
  offset?: number;
  detail?: string;
}

export type DeliveryLayer =
  /** Every message the gateway sent on the socket, duplicates and replays included. */
  | 'raw'
  /** What the SDK handed the application (after its dedupe and gap healing). */
  | 'app';

export interface Delivery {
  subscriber: string;
  layer: DeliveryLayer;
  roomId: string;
  seq: number;
  prevSeq: number | null;
  clientMsgId: string;
  at: number;
}

/** A room's history as the HTTP history API returns it after the run. */
export interface StoredMessage {
  roomId: string;
  seq: number;
  prevSeq: number | null;
  clientMsgId: string;
}

export interface SubscriberInfo {
  name: string;
  rooms: string[];
}

export interface FaultMark {
  name: string;
  at: number;
  /** When the fault was lifted (restart, SIGCONT, proxy restored); absent for a permanent one. */
  until?: number;
}

export interface History {
  publishes: PublishAttempt[];
  deliveries: Delivery[];
  /** Per room; every room published to must have an entry (an empty list if the API had none). */
  stored: Record<string, StoredMessage[]>;
  subscribers: SubscriberInfo[];
  faults: FaultMark[];
}
