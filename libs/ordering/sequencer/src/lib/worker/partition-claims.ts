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
 * - The published position is raised in memory once a batch's events are acknowledged; PostgreSQL's
 *   copy goes with the partition's next batch write, or on its own after `recordDelayMs` without one
 *   (recordPublished). A later claim of the partition and a stop write it first.
 */
import type { Logger } from '@nestjs/common';
import type { PartitionClaim, SequencerStore } from '@seqcast/ordering-domain';
import { workerMetrics } from '../worker.metrics';
import { decideGap, type GapSeek } from './gap-decision';
import type { LagReporter } from './lag-reporter';

export interface PartitionState {
  claim: PartitionClaim;
  nextOffset: number;
  /** Events of every message below this are on the events topic; PostgreSQL may lag (recordPublished). */
  publishedOffset: number;
  /** The published position PostgreSQL holds as far as this claim knows (it wrote it, or claimed with it). */
  storedPublishedOffset: number;
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
  /** How long a published position may wait for the partition's next batch write; default 1 s. */
  recordDelayMs?: number;
}

/**
 * Long enough for the next batch of a busy partition (its write carries the position, saving a
 * commit), short enough that an idle partition's position is current within a second (a crash
 * before it is written costs republishing those events, never losing them).
 */
const DEFAULT_RECORD_DELAY_MS = 1_000;

export class PartitionClaims {
  private states = new Map<number, PartitionState>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Published positions being written, per partition (never rejects). */
  private readonly recording = new Map<number, Promise<void>>();
  /** Partitions whose published position waits for their next batch write, and since when. */
  private readonly unrecorded = new Map<number, { state: PartitionState; timer: NodeJS.Timeout }>();

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
    // Written now, while these claims may still hold: whoever claims next has less to republish.
    this.recordAllNow();
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
    this.recordNow(partition);
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
        storedPublishedOffset: claim.publishedOffset,
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
   * The batch's events are acknowledged up to `offset`: raised in memory at once. PostgreSQL's copy
   * goes with the partition's next batch write (BatchCommitter passes `publishedOffset`), or, if no
   * batch comes within `recordDelayMs`, with an UPDATE of its own, so a busy partition pays one
   * commit per batch instead of two (at the log end, i.e. nearly always under load, each batch used
   * to record its publish separately), while an idle one is current within that delay. Until it is
   * written, a crash leaves the stored value lower than the truth: republishing, never loss.
   */
  recordPublished(state: PartitionState, offset: number): void {
    const { partition } = state.claim;
    state.publishedOffset = Math.max(state.publishedOffset, offset);
    if (state.storedPublishedOffset >= state.publishedOffset) return;
    const waiting = this.unrecorded.get(partition);
    if (waiting?.state === state) return;
    if (waiting) this.recordNow(partition);
    const timer = setTimeout(() => this.recordNow(partition), this.options.recordDelayMs ?? DEFAULT_RECORD_DELAY_MS);
    // A process that exits without stop() is a crash as far as this position is concerned.
    timer.unref();
    this.unrecorded.set(partition, { state, timer });
  }

  /** A batch write stored the published position (it is in the same transaction as the batch). */
  storedPublished(state: PartitionState, offset: number): void {
    state.storedPublishedOffset = Math.max(state.storedPublishedOffset, offset);
  }

  /** Every waiting published position written now; resolves once all are written (or refused). */
  async settled(): Promise<void> {
    this.recordAllNow();
    await Promise.all([...this.recording.values()]);
  }

  private recordAllNow(): void {
    for (const partition of [...this.unrecorded.keys()]) this.recordNow(partition);
  }

  /** Starts writing the partition's waiting published position, after any write of it in flight. */
  private recordNow(partition: number): void {
    const waiting = this.unrecorded.get(partition);
    if (!waiting) return;
    clearTimeout(waiting.timer);
    this.unrecorded.delete(partition);
    const { state } = waiting;
    const previous = this.recording.get(partition) ?? Promise.resolve();
    const recorded: Promise<void> = previous
      .then(async () => {
        // A batch write may have carried it meanwhile, or the claim been fenced or replaced.
        const offset = state.publishedOffset;
        if (state.fenced || state.storedPublishedOffset >= offset) return;
        await this.markPublished(state, offset);
      })
      .catch((error: unknown) =>
        // Stays lower in PostgreSQL until the next batch's write or claim: republishing at worst.
        this.options.logger.warn(
          `partition ${partition}: recording published offset ${state.publishedOffset} failed: ` +
            `${error instanceof Error ? error.message : String(error)}`,
        ),
      )
      .finally(() => {
        if (this.recording.get(partition) === recorded) this.recording.delete(partition);
      });
    this.recording.set(partition, recorded);
  }

  /** Records that events below `offset` are on the topic; false (and fenced) if the claim was lost. */
  async markPublished(state: PartitionState, offset: number): Promise<boolean> {
    if (!(await this.options.store.markPublished(state.claim, offset))) {
      this.fence(state, 'generation changed before the published position could be recorded');
      return false;
    }
    state.publishedOffset = Math.max(state.publishedOffset, offset);
    this.storedPublished(state, offset);
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
