import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { pruneHistoryBatch } from '@seqcast/ordering-data-access';
import type { DataSource } from '@seqcast/persistence';
import { ORDERING_WORKER_SETTINGS, type OrderingWorkerSettings, WORKER_DATA_SOURCE } from './ordering-worker.options';
import { OrderingWorkerService } from './ordering-worker.service';
import { workerMetrics } from './worker.metrics';

const DEFAULT_INTERVAL_MS = 60_000;
const DEFAULT_BATCH_SIZE = 500;
/** Between two DELETEs of one run: pruning yields to the sequencing transactions it shares rows with. */
const PAUSE_BETWEEN_BATCHES_MS = 50;
const HOUR_MS = 3_600_000;

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * History retention (HISTORY_RETENTION_HOURS > 0): every `pruneIntervalMs` the worker deletes,
 * in small batches, the messages of the partitions it is assigned that were sequenced before the
 * cutoff, keeping each room's newest message and anything not yet published (see
 * pruneHistoryBatch). Each worker prunes its own partitions, so a group of workers shares the work
 * without coordination.
 */
@Injectable()
export class HistoryRetentionService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('HistoryRetention');
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private stopped = false;

  constructor(
    @Inject(ORDERING_WORKER_SETTINGS) private readonly settings: OrderingWorkerSettings,
    @Inject(WORKER_DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly worker: OrderingWorkerService,
  ) {}

  get enabled(): boolean {
    return (this.settings.historyRetentionHours ?? 0) > 0;
  }

  onApplicationBootstrap(): void {
    if (!this.enabled) return;
    this.logger.log(`pruning messages older than ${this.settings.historyRetentionHours} h`);
    this.schedule();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    // A run stops between batches once `stopped` is set; a DELETE in progress is one short statement.
    await this.running?.catch(() => undefined);
  }

  /** One pruning run over the assigned partitions; returns the number of messages deleted. */
  pruneNow(): Promise<number> {
    this.running ??= this.prune().finally(() => (this.running = undefined));
    return this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.pruneNow()
        .catch((error: unknown) => this.logger.warn(`pruning failed, retrying next run: ${describe(error)}`))
        .finally(() => this.schedule());
    }, this.settings.pruneIntervalMs ?? DEFAULT_INTERVAL_MS);
    this.timer.unref();
  }

  private async prune(): Promise<number> {
    const hours = this.settings.historyRetentionHours ?? 0;
    const partitions = this.worker.assignedPartitions;
    if (hours <= 0 || partitions.length === 0) return 0;
    const limit = this.settings.pruneBatchSize ?? DEFAULT_BATCH_SIZE;
    const olderThan = new Date(Date.now() - hours * HOUR_MS);
    let total = 0;
    while (!this.stopped) {
      const deleted = await pruneHistoryBatch(this.dataSource, {
        topic: this.settings.messagesTopic,
        partitions,
        olderThan,
        limit,
      });
      total += deleted;
      workerMetrics.prunedMessages.inc(deleted);
      if (deleted < limit) break;
      await new Promise((resolve) => setTimeout(resolve, PAUSE_BETWEEN_BATCHES_MS));
    }
    if (total > 0) {
      this.logger.log(
        `pruned ${total} message(s) sequenced before ${olderThan.toISOString()} from partitions ${partitions.join(',')}`,
      );
    }
    return total;
  }
}
