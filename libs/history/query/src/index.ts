// Public API of @seqcast/history-query: the history HTTP endpoint as one Nest module.
export { HistoryQueryModule } from './lib/history-query.module';
export type { HistoryQueryOptions } from './lib/history-query.options';
