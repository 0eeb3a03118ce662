// Public API of @seqcast/persistence: open the database (schema, migrations, epoch), the entities
// and row mapping that capability data-access libs build on, and the shared readers (history,
// API keys). Write sides live with their capability (ordering, and history retention, which only
// the ordering worker runs: @seqcast/ordering-data-access).
export { ApiKeyRepository, type ApiKeySummary } from './lib/api-key.repository';
export { DatabaseError, ensureDatabase, newEpoch, openDatabase, pgSslOptions, probeDatabase } from './lib/database';
export type { DatabaseTls, OpenDatabaseOptions } from './lib/database';
export { type MessageHistory, MessageHistoryRepository } from './lib/message-history.repository';
export {
  ApiKeyEntity,
  DeadLetterEntity,
  EPOCH_KEY,
  MessageEntity,
  MetaEntity,
  PartitionPositionEntity,
} from './lib/entities';
export { toMessage } from './lib/message.mapping';
export { DataSource } from 'typeorm';
