/**
 * One batch of one partition into PostgreSQL: decode, sequence against what is stored, and write
 * messages, dead letters and the new position in one fenced transaction.
 */
import type { Logger } from '@nestjs/common';
import type { Message } from '@seqcast/contracts';
import {
  type BatchWrite,
  decodeRecord,
  type InputRecord,
  lookupKeys,
  type SequenceResult,
  type SequencerStore,
  sequenceRecords,
} from '@seqcast/ordering-domain';
import { crashPoint } from '../fault-point';
import type { FaultContext, WorkerFaults } from '../ordering-worker.options';
import { workerMetrics } from '../worker.metrics';
import type { CommitGroups } from './commit-groups';
import type { LagReporter } from './lag-reporter';
import type { PartitionClaims, PartitionState } from './partition-claims';
import { runFaultHook } from './worker-errors';

export interface BatchCommitterOptions {
  store: SequencerStore;
  /** Group commit of the lanes' batches (commits through `store` alone when absent). */
  groups?: CommitGroups;
  /** Both topics' partition count (a record on the wrong partition is dead-lettered). */
  partitions: number;
  claims: PartitionClaims;
  lag: LagReporter;
  faults: WorkerFaults;
  logger: Logger;
}

/** The batch's log line: counts, and the dead letters' reasons. */
export function batchSummary(
  batch: { partition: number; size: number; firstOffset: number; lastOffset: number },
  outcome: { messages: unknown[]; duplicates: unknown[]; deadLetters: { offset: number; reason: string }[] },
): { level: 'warn' | 'log' | 'debug'; line: string } {
  const { partition, size, firstOffset, lastOffset } = batch;
  const { messages, duplicates, deadLetters } = outcome;
  const line =
    `partition ${partition} batch of ${size} (offsets ${firstOffset}-${lastOffset}): ` +
    `${messages.length} sequenced, ${duplicates.length} duplicates, ${deadLetters.length} dead-lettered`;
  if (deadLetters.length > 0) {
    return {
      level: 'warn',
      line: `${line}; reasons: ${deadLetters.map((d) => `${d.offset}: ${d.reason}`).join('; ')}`,
    };
  }
  // Routine batches are many; operators see them with LOG_LEVEL=debug.
  return { level: duplicates.length > 0 ? 'log' : 'debug', line };
}

export class BatchCommitter {
  constructor(private readonly options: BatchCommitterOptions) {}

  /** The fenced transaction; returns the new messages, or undefined when fenced. */
  async commit(state: PartitionState, records: InputRecord[]): Promise<Message[] | undefined> {
    const { claim } = state;
    const { store, faults, claims, lag, logger } = this.options;
    const decoded = records.map((record) =>
      decodeRecord(record, { partition: claim.partition, partitions: this.options.partitions }),
    );
    const firstOffset = records[0]?.offset ?? state.nextOffset;
    const lastOffset = records[records.length - 1]?.offset ?? state.nextOffset;
    const now = new Date();
    const { beforeCommit, afterCommit } = faults;
    const faultContext = (messages: Message[]): FaultContext => ({
      partition: claim.partition,
      firstOffset,
      lastOffset,
      messages,
    });
    const stopTimer = workerMetrics.batchDuration.startTimer();
    crashPoint('before-db-commit');
    // Events up to here are on the topic (in memory until now, see PartitionClaims.recordPublished).
    const publishedOffset = state.publishedOffset;
    const write: BatchWrite<SequenceResult> = {
      fromOffset: state.nextOffset,
      nextOffset: lastOffset + 1,
      publishedOffset,
      ...lookupKeys(decoded),
      sequence: (known) => sequenceRecords(decoded, { epoch: claim.epoch, now, known }),
      beforeCommit:
        beforeCommit && ((result) => runFaultHook('beforeCommit', beforeCommit, faultContext(result.messages))),
    };
    const { groups } = this.options;
    const outcome = groups ? await groups.commit(claim, write) : await store.commitBatch(claim, write);
    if (outcome.status === 'fenced') {
      claims.fence(state, outcome.reason);
      return undefined;
    }
    stopTimer();
    claims.storedPublished(state, publishedOffset);
    state.nextOffset = lastOffset + 1;
    lag.setPosition(claim.partition, state.nextOffset);
    const { messages, duplicates, conflicts, deadLetters } = outcome.result;
    workerMetrics.sequencedMessages.inc(messages.length);
    workerMetrics.duplicatesDropped.inc(duplicates.length);
    workerMetrics.idempotencyConflicts.inc(conflicts.length);
    workerMetrics.deadLetters.inc(deadLetters.length);
    const { level, line } = batchSummary(
      { partition: claim.partition, size: records.length, firstOffset, lastOffset },
      outcome.result,
    );
    logger[level](line);
    if (afterCommit) await runFaultHook('afterCommit', afterCommit, faultContext(messages));
    return messages;
  }
}
