// Public API of @seqcast/ordering-data-access: the ordering worker's store on PostgreSQL and
// history pruning (HISTORY_RETENTION_HOURS).
export { pruneHistoryBatch, type PruneBatch } from './lib/history-retention';
export {
  type CommitPath,
  PostgresSequencerStore,
  type PostgresSequencerStoreOptions,
} from './lib/postgres-sequencer.store';
