/** Defaults shared by every service and by docs/protocol.md; each is overridable by environment. */
export const DEFAULT_MESSAGES_TOPIC = 'seqcast.messages';
export const DEFAULT_EVENTS_TOPIC = 'seqcast.events';
export const DEFAULT_PARTITIONS = 12;
