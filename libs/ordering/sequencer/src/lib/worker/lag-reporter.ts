/**
 * The consumer lag gauge per assigned partition (log end offset − position), refreshed on every
 * batch and on a timer: partitions that receive no batches (idle, or stuck behind a failing
 * database) must still report.
 */
import type { Logger } from '@nestjs/common';
import { type Admin, fetchCommittedOffsets, fetchLogEndOffsets } from '@seqcast/kafka';
import { workerMetrics } from '../worker.metrics';
import { describeError } from './worker-errors';

export const DEFAULT_LAG_INTERVAL_MS = 5_000;

/**
 * Lag of every assigned partition whose log end and position are both known; the committed offset
 * stands in for the position of a partition not claimed since the last join.
 */
export function partitionLags(
  assigned: Iterable<number>,
  logEnds: ReadonlyMap<number, number>,
  positions: ReadonlyMap<number, number>,
  committed: ReadonlyMap<number, number> | undefined,
): Map<number, number> {
  const lags = new Map<number, number>();
  for (const partition of assigned) {
    const end = logEnds.get(partition);
    const position = positions.get(partition) ?? committed?.get(partition);
    if (end !== undefined && position !== undefined) lags.set(partition, end - position);
  }
  return lags;
}

export interface LagReporterOptions {
  messagesTopic: string;
  groupId: string;
  intervalMs?: number;
  /** Partitions Kafka assigns to this worker now. */
  assigned: () => ReadonlySet<number>;
  /** False once the worker stopped or crashed: the timer then reports nothing. */
  isRunning: () => boolean;
  logger: Logger;
}

export class LagReporter {
  /** Last known position per assigned partition (claims and commits). */
  private positions = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;
  private refreshing = false;

  constructor(private readonly options: LagReporterOptions) {}

  start(admin: Admin): void {
    this.timer = setInterval(() => void this.refresh(admin), this.options.intervalMs ?? DEFAULT_LAG_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** The partition's stored position moved (claim, skip, commit). */
  setPosition(partition: number, offset: number): void {
    this.positions.set(partition, offset);
  }

  report(partition: number, lag: number): void {
    if (!this.options.assigned().has(partition) || !Number.isFinite(lag)) return;
    workerMetrics.consumerLag.set({ partition: String(partition) }, Math.max(0, lag));
  }

  /** Partitions this worker no longer owns: whoever owns them now reports their lag. */
  forget(partitions: Iterable<number>): void {
    for (const partition of partitions) {
      this.positions.delete(partition);
      workerMetrics.consumerLag.remove({ partition: String(partition) });
    }
  }

  /** Positions of partitions kept over a rejoin may have moved under another owner: re-learn them. */
  forgetPositions(): void {
    this.positions = new Map();
  }

  /** Every partition this worker reported, positions and assignment alike. */
  forgetAll(): void {
    this.forget([...this.positions.keys(), ...this.options.assigned()]);
  }

  /** One offsets request per tick (two while some position is unknown). */
  private async refresh(admin: Admin): Promise<void> {
    const assigned = this.options.assigned();
    if (!this.options.isRunning() || assigned.size === 0 || this.refreshing) return;
    this.refreshing = true;
    try {
      const { messagesTopic, groupId } = this.options;
      const ends = await fetchLogEndOffsets(admin, messagesTopic);
      const unknown = [...assigned].filter((partition) => !this.positions.has(partition));
      const committed = unknown.length > 0 ? await fetchCommittedOffsets(admin, groupId, messagesTopic) : undefined;
      for (const [partition, lag] of partitionLags(assigned, ends, this.positions, committed)) {
        this.report(partition, lag);
      }
    } catch (error) {
      // The next tick tries again; readiness reports a Kafka that does not answer.
      this.options.logger.debug(`consumer lag refresh failed: ${describeError(error)}`);
    } finally {
      this.refreshing = false;
    }
  }
}
