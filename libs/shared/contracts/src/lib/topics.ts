/**
 * The topics' default names, as the AsyncAPI document (tools/contracts) publishes them; services
 * read theirs from the environment (SEQCAST_MESSAGES_TOPIC, SEQCAST_EVENTS_TOPIC).
 */
export const DEFAULT_MESSAGES_TOPIC = 'seqcast.messages';
export const DEFAULT_EVENTS_TOPIC = 'seqcast.events';
