// Public API of @seqcast/ordering-sequencer: the pure sequencing rule and the worker that applies it.
export {
  decodeRecord,
  encodeRaw,
  lookupKeys,
  sequenceBatch,
  sequenceRecords,
  type DecodedRecord,
  type Duplicate,
  type InputRecord,
  type PartitionContext,
  type SequenceContext,
  type SequenceResult,
} from './lib/sequencer';
export { HistoryRetentionService } from './lib/history-retention.service';
export { OrderingWorkerModule } from './lib/ordering-worker.module';
export { OrderingWorkerService } from './lib/ordering-worker.service';
export {
  ORDERING_WORKER_SETTINGS,
  WORKER_DATA_SOURCE,
  WORKER_FAULTS,
  WORKER_KAFKA,
  type FaultContext,
  type OrderingWorkerModuleOptions,
  type OrderingWorkerSettings,
  type WorkerFaults,
} from './lib/ordering-worker.options';
