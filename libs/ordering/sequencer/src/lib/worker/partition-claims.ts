/**
 * Which partitions this worker holds a claim on, and the fence around them.
 *
 * - A partition is claimed on its first batch after every (re)join (bumping its generation in
 *   PostgreSQL); the worker resumes from the stored `next_offset`.
 * - A stored position beyond the log end means the input topic was recreated: the epoch is
 *   rotated (compare-and-set, so concurrent workers agree) and numbering restarts.
 * - Records below the log start were deleted by retention before they were sequenced: skipped.
 * - A write refused by the fence (another worker claimed since) pauses the partition; it is
 *   re-claimed after the next rebalance, or after `fencedPauseMs` if Kafka still assigns it here.
 * - The published position at the log end is recorded in the background (recordPublished): the
 *   batch does not wait for that commit, a later claim of the partition and a stop do.
 */
import type { Logger } from '@nestjs/common';
import type { PartitionClaim, SequencerStore } from '@seqcast/ordering-domain';
import { workerMetrics } from '../worker.metrics';
import { decideGap, type GapSeek } from './gap-decision';
import type { LagReporter } from './lag-reporter';

export interface PartitionState {
  claim: PartitionClaim;
  nextOffset: number;
  /** Events of every message below this are on the events topic; PostgreSQL may lag by one batch. */
  publishedOffset: number;
  fenced: boolean;
  /** The last seek for a gap: if the log again starts at `landedAt`, those offsets do not exist. */
  lastSeek?: GapSeek;
}

/** What the claims need from the consumer: pausing, resuming and seeking a partition. */
export interface PartitionFlow {
  isAssigned(partition: number): boolean;
  pause(partition: number): void;
  resume(partition: number): void;
  seek(partition: number, offset: number): void;
}

export interface PartitionClaimsOptions {
  store: SequencerStore;
  owner: string;
  messagesTopic: string;
  fencedPauseMs?: number;
  /** The messages topic's log start and end for a partition, read from Kafka now. */
  logOffsets: (partition: number) => Promise<{ low: number; high: number }>;
  flow: PartitionFlow;
  lag: LagReporter;
  isRunning: () => boolean;
  logger: Logger;
}

export class PartitionClaims {
  private states = new Map<number, PartitionState>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Published positions being recorded in the background, per partition (never rejects). */
  private readonly recording = new Map<number, Promise<void>>();

  constructor(private readonly options: PartitionClaimsOptions) {}

  /** The partition's current claim, or a fresh one. */
  async current(partition: number): Promise<PartitionState> {
    return this.states.get(partition) ?? (await this.claim(partition));
  }

  /** Drops the partition's claim (it may be half-done); its next batch claims afresh, always safe. */
  release(partition: number): void {
    this.states.delete(partition);
  }

  /** Any rejoin invalidates every claim: each partition is claimed afresh on its next batch. */
  releaseAll(): void {
    this.states = new Map();
    this.clearTimers();
  }

  clearTimers(): void {
    this.timers.forEach((timer) => clearTimeout(timer));
    this.timers.clear();
  }

  /** Claims the partition in the current epoch, rotating the epoch if the input log was reset. */
  private async claim(partition: number): Promise<PartitionState> {
    const { store, messagesTopic, logger } = this.options;
    // The previous claim's published position first: claimed again by this worker, the partition
    // then starts with nothing to republish (written under the old generation, before the bump).
    await this.recording.get(partition);
    for (let attempt = 0; attempt < 2; attempt++) {
      const before = await this.options.logOffsets(partition);
      const claim = await store.claim({
        topic: messagesTopic,
        partition,
        owner: this.options.owner,
        initialOffset: before.low,
      });
      // Read after the claim: nobody can advance the position any more, so a position beyond
      // this log end cannot be a batch another worker just committed.
      const after = await this.options.logOffsets(partition);
      if (claim.nextOffset > after.high) {
        const { epoch, rotated } = await store.rotateEpoch(claim.epoch);
        if (rotated) workerMetrics.epochRotations.inc();
        logger.warn(
          `partition ${partition}: stored position ${claim.nextOffset} is beyond the log end ${after.high} of ` +
            `${messagesTopic}, so the input log was reset (topic recreated?): epoch ${claim.epoch} → ` +
            `${epoch}${rotated ? '' : ' (already rotated by another worker)'}; numbering restarts`,
        );
        // Our other claims belong to the old epoch and would only be fenced: re-claim them now.
        for (const [other, state] of this.states) {
          if (state.claim.epoch !== epoch) this.states.delete(other);
        }
        continue;
      }
      const state: PartitionState = {
        claim,
        nextOffset: claim.nextOffset,
        publishedOffset: claim.publishedOffset,
        fenced: false,
      };
      this.states.set(partition, state);
      logger.log(
        `claimed partition ${partition} gen ${claim.generation} from offset ${claim.nextOffset} (epoch ${claim.epoch})`,
      );
      if (claim.nextOffset < after.low) await this.skipVanished(state, after.low);
      this.options.lag.setPosition(partition, state.nextOffset);
      this.options.lag.report(partition, after.high - state.nextOffset);
      return state;
    }
    throw new Error(`partition ${partition}: log reset detected again right after rotating the epoch`);
  }

  /** Records below the log start were deleted by retention before they were sequenced. */
  private async skipVanished(state: PartitionState, logStart: number): Promise<void> {
    if (!(await this.options.store.skipTo(state.claim, logStart))) {
      this.fence(state, 'position changed while skipping to the log start');
      return;
    }
    this.options.logger.warn(
      `partition ${state.claim.partition}: offsets ${state.nextOffset}-${logStart - 1} were deleted by retention ` +
        `before being sequenced; continuing at ${logStart}`,
    );
    state.nextOffset = logStart;
    this.options.lag.setPosition(state.claim.partition, logStart);
  }

  /**
   * The batch starts above our position (see decideGap). Returns whether the batch may be
   * processed; false when the partition was sought back or fenced.
   */
  async acceptGap(state: PartitionState, firstOffset: number): Promise<boolean> {
    const { partition } = state.claim;
    const { low } = await this.options.logOffsets(partition);
    if (low > state.nextOffset) {
      await this.skipVanished(state, low);
      if (state.fenced) return false;
      if (firstOffset <= state.nextOffset) return true;
    }
    const decision = decideGap(state.nextOffset, firstOffset, state.lastSeek);
    if (decision.action === 'pass-over') {
      this.options.logger.warn(
        `partition ${partition}: offsets ${state.nextOffset}-${firstOffset - 1} hold no records; passing over them`,
      );
      return true;
    }
    this.options.logger.log(
      `partition ${partition}: batch starts at ${firstOffset}, position is ${state.nextOffset}; seeking back`,
    );
    state.lastSeek = decision.seek;
    this.options.flow.seek(partition, state.nextOffset);
    return false;
  }

  /**
   * markPublished without waiting for it: the batch's events are acknowledged, so the position is
   * raised in memory at once (a later batch's write would carry it anyway), and PostgreSQL's copy
   * follows in the background. Until that commit lands, a crash can only leave the stored value
   * lower than the truth, which costs republishing (at-least-once), never loss. Saves the batch a
   * commit on its way back to the fetch loop, where the whole fetch's batches wait for each other.
   * Per partition the writes stay in order; `settled()` waits for them (a stop does, before
   * leaving the group), and so does the next claim of the partition.
   */
  recordPublished(state: PartitionState, offset: number): void {
    const { partition } = state.claim;
    state.publishedOffset = Math.max(state.publishedOffset, offset);
    const previous = this.recording.get(partition) ?? Promise.resolve();
    const recorded: Promise<void> = previous
      .then(() => this.markPublished(state, offset))
      .then(
        () => undefined,
        (error: unknown) =>
          // Stays lower in PostgreSQL until the next batch's write or claim: republishing at worst.
          this.options.logger.warn(
            `partition ${partition}: recording published offset ${offset} failed: ${error instanceof Error ? error.message : String(error)}`,
          ),
      )
      .finally(() => {
        if (this.recording.get(partition) === recorded) this.recording.delete(partition);
      });
    this.recording.set(partition, recorded);
  }

  /** Until every published position recorded in the background so far is written (or refused). */
  async settled(): Promise<void> {
    await Promise.all([...this.recording.values()]);
  }

  /** Records that events below `offset` are on the topic; false (and fenced) if the claim was lost. */
  async markPublished(state: PartitionState, offset: number): Promise<boolean> {
    if (!(await this.options.store.markPublished(state.claim, offset))) {
      this.fence(state, 'generation changed before the published position could be recorded');
      return false;
    }
    state.publishedOffset = Math.max(state.publishedOffset, offset);
    return true;
  }

  fence(state: PartitionState, reason: string): void {
    const { partition, generation } = state.claim;
    const { flow, logger, isRunning } = this.options;
    state.fenced = true;
    workerMetrics.fencedBatches.inc();
    if (this.states.get(partition) !== state) {
      // A batch from before the last rejoin: the current claim is someone else's business.
      logger.warn(`partition ${partition}: stale batch (gen ${generation}) refused: ${reason}`);
      return;
    }
    logger.warn(`partition ${partition} fenced (gen ${generation}): ${reason}; pausing it until re-claimed`);
    if (isRunning()) flow.pause(partition);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      // Still ours by Kafka's account (e.g. a stale claim by a worker that lost it): try again.
      if (this.states.get(partition) !== state || !isRunning() || !flow.isAssigned(partition)) return;
      this.states.delete(partition);
      flow.resume(partition);
    }, this.options.fencedPauseMs ?? 5_000);
    this.timers.add(timer);
  }
}
