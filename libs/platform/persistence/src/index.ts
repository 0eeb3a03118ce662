// Public API of @seqcast/persistence: open the database, read history, and the ordering
// worker's fenced store.
export { ApiKeyRepository, type ApiKeySummary } from './lib/api-key.repository';
export { DatabaseError, ensureDatabase, newEpoch, openDatabase, pgSslOptions, probeDatabase } from './lib/database';
export type { DatabaseTls, OpenDatabaseOptions } from './lib/database';
export { pruneHistoryBatch, type PruneBatch } from './lib/history-retention';
export { MessageHistoryRepository } from './lib/message-history.repository';
export { idempotencyKey, SequencerStore } from './lib/sequencer.store';
export type {
  BatchWrite,
  ClaimRequest,
  CommitOutcome,
  DeadLetterRecord,
  IdempotencyKey,
  KnownState,
  PartitionClaim,
  PartitionRef,
  SequencedBatch,
  StoredCopy,
} from './lib/sequencer.store';
export { ApiKeyEntity, DeadLetterEntity, MessageEntity, MetaEntity, PartitionPositionEntity } from './lib/entities';
export { DataSource } from 'typeorm';
