// Public API of @seqcast/ordering-data-access: the ordering worker's store on PostgreSQL.
export { PostgresSequencerStore } from './lib/postgres-sequencer.store';
