/** What the gateway reads history through: the one MessageHistory port of @seqcast/persistence. */
export type { MessageHistory } from '@seqcast/persistence';

export const MESSAGE_HISTORY = Symbol('MESSAGE_HISTORY');
export const SUBSCRIPTION_OPTIONS = Symbol('SUBSCRIPTION_OPTIONS');
export const EVENTS_CONSUMER_OPTIONS = Symbol('EVENTS_CONSUMER_OPTIONS');
export const TOKEN_VERIFIER = Symbol('TOKEN_VERIFIER');
export const TOKEN_LIFETIME_OPTIONS = Symbol('TOKEN_LIFETIME_OPTIONS');
export const KAFKA_CLIENT = Symbol('KAFKA_CLIENT');
export const DRAIN_OPTIONS = Symbol('DRAIN_OPTIONS');
/** The PartitionInterest of the events consumer (absent: every partition is fetched). */
export const PARTITION_INTEREST = Symbol('PARTITION_INTEREST');
