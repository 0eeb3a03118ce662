// Public API of @seqcast/ordering-sequencer: the ordering worker as a Nest module (and its service,
// for readiness checks), with its settings. The sequencing rule is @seqcast/ordering-domain.
export { HistoryRetentionService } from './lib/history-retention.service';
export { OrderingWorkerModule } from './lib/ordering-worker.module';
export { OrderingWorkerService } from './lib/ordering-worker.service';
export type {
  FaultContext,
  HostProvided,
  OrderingWorkerModuleOptions,
  OrderingWorkerSettings,
  WorkerFaults,
} from './lib/ordering-worker.options';
