/**
 * Fetch only what somebody here is subscribed to: partitions of the events topic without a
 * subscribed room are paused on the events consumer, so a gateway's Kafka and decode cost follows
 * its own subscribers rather than the whole cluster's traffic.
 *
 * The seam when a paused partition is resumed (its first room gets its first subscriber). Events
 * published while it was paused were never dispatched here, so:
 *
 *  - the partition is resumed *from its current end*, never from where it was paused (which
 *    could be hours of backlog in front of the first live event): the high watermark H is read
 *    first, the consumer seeks to H and resumes;
 *  - the subscription reads its head from PostgreSQL only after that (`ready`). Any event at an
 *    offset below H was acknowledged by Kafka before H was read, and the worker commits to
 *    PostgreSQL before it publishes, so it is at or below the head and comes by replay; every
 *    event from H on is fetched live and reaches the subscription's buffer. No gap, and the
 *    chain check still repairs anything unexpected;
 *  - if the end cannot be read in time (a broker or the box too busy), the partition is resumed
 *    from where it was paused instead: slower to reach live (it reads the backlog of the pause,
 *    all of it at or below the head, dropped by seq), but it misses nothing either;
 *  - room caches of the partition's idle rooms are dropped when it is paused: a cache may claim
 *    "nothing newer was dispatched" only while its partition is being consumed.
 *
 * The only hook into the consumer is `attach(consumer)` once it runs (again after a consumer is
 * recreated): it pauses what has no interest. A consumer that is not attached fetches everything,
 * which is merely the old cost.
 */
import { Logger } from '@nestjs/common';
import type { Admin, Consumer, Kafka } from '@seqcast/kafka';
import { partitionForRoom } from '@seqcast/room-partitioner';

/** The consumer operations used here (kafkajs Consumer). */
export type PartitionSwitch = Pick<Consumer, 'pause' | 'resume' | 'seek'>;

/** Reads a partition's current end (high watermark). */
export type HighWatermarks = (topic: string) => Promise<{ partition: number; high: string }[]>;

export interface PartitionInterestOptions {
  topic: string;
  /** Partition count of the events topic (SEQCAST_EVENTS_PARTITIONS). */
  partitions: number;
}

/** A resume that cannot read the partition's end in this time resumes from where it paused. */
export const RESUME_TIMEOUT_MS = 5_000;

export class PartitionInterest {
  private readonly logger = new Logger(PartitionInterest.name);
  /** Subscribed rooms per partition. */
  private readonly rooms: number[];
  /** Partitions currently paused on the attached consumer. */
  private readonly paused = new Set<number>();
  /** Resumes in flight, by partition. */
  private readonly resuming = new Map<number, Promise<void>>();
  private consumer: PartitionSwitch | undefined;
  private admin: Admin | undefined;
  private adminConnecting: Promise<Admin> | undefined;
  /** Told when a partition is paused: its idle rooms' caches are no longer kept current. */
  onPaused: (partition: number) => void = () => undefined;

  constructor(
    private readonly options: PartitionInterestOptions,
    private readonly kafka: Pick<Kafka, 'admin'> | undefined,
    private readonly watermarks?: HighWatermarks,
  ) {
    this.rooms = new Array<number>(options.partitions).fill(0);
  }

  partitionOf(roomId: string): number {
    return partitionForRoom(roomId, this.options.partitions);
  }

  /** Partitions fetched right now (all of them while no consumer is attached). */
  get activePartitions(): number[] {
    return this.rooms.map((_, p) => p).filter((p) => !this.paused.has(p));
  }

  /** The (new) running consumer: everything without interest is paused on it. */
  attach(consumer: PartitionSwitch): void {
    this.consumer = consumer;
    this.paused.clear();
    const idle = this.rooms.map((count, p) => (count === 0 ? p : -1)).filter((p) => p >= 0);
    if (idle.length === 0) return;
    consumer.pause([{ topic: this.options.topic, partitions: idle }]);
    for (const p of idle) this.paused.add(p);
    this.warmUp();
  }

  detach(consumer: PartitionSwitch): void {
    if (this.consumer !== consumer) return;
    this.consumer = undefined;
    this.paused.clear();
  }

  /** A room got its first subscriber (true) or lost its last one (false). */
  roomActive(roomId: string, active: boolean): void {
    const p = this.partitionOf(roomId);
    this.rooms[p] += active ? 1 : -1;
    if (active && this.rooms[p] === 1) void this.resume(p);
    if (!active && this.rooms[p] === 0) this.pause(p);
  }

  /**
   * Resolves once live events of the room's partition flow from a point no later than now, so a
   * head read after it cannot miss an event between it and the live stream. Never rejects.
   */
  ready(roomId: string): Promise<void> {
    return this.resuming.get(this.partitionOf(roomId)) ?? Promise.resolve();
  }

  /** Connects the admin client used to read partition ends ahead of the first resume. */
  warmUp(): void {
    if (!this.watermarks && this.kafka) {
      this.connectedAdmin().catch((error: unknown) => {
        this.logger.warn(`cannot connect the admin client for partition ends yet: ${describe(error)}`);
      });
    }
  }

  async close(): Promise<void> {
    const admin = this.admin ?? (await this.adminConnecting?.catch(() => undefined));
    this.admin = undefined;
    this.adminConnecting = undefined;
    await admin?.disconnect().catch(() => undefined);
  }

  private pause(p: number): void {
    const consumer = this.consumer;
    if (!consumer || this.paused.has(p)) return;
    try {
      consumer.pause([{ topic: this.options.topic, partitions: [p] }]);
      this.paused.add(p);
    } catch (error) {
      this.logger.warn(`cannot pause ${this.options.topic}[${p}]: ${describe(error)}`);
      return;
    }
    this.onPaused(p);
  }

  private resume(p: number): Promise<void> {
    const inFlight = this.resuming.get(p);
    if (inFlight) return inFlight;
    if (!this.consumer || !this.paused.has(p)) return Promise.resolve();
    const flight = this.resumeFromEnd(p)
      .catch((error: unknown) => {
        this.logger.warn(
          `cannot read the end of ${this.options.topic}[${p}] (${describe(error)}): resuming it from where it was paused`,
        );
        this.resumeInPlace(p);
      })
      .finally(() => this.resuming.delete(p));
    this.resuming.set(p, flight);
    return flight;
  }

  private async resumeFromEnd(p: number): Promise<void> {
    const consumer = this.consumer;
    const high = await withTimeout(this.highWatermark(p), RESUME_TIMEOUT_MS);
    // Interest may have gone again, or the consumer been replaced (it fetches everything then).
    if (this.rooms[p] === 0 || this.consumer !== consumer || !consumer || !this.paused.has(p)) return;
    const { topic } = this.options;
    consumer.seek({ topic, partition: p, offset: high });
    consumer.resume([{ topic, partitions: [p] }]);
    this.paused.delete(p);
  }

  /** Resumes without a seek: the consumer goes on from where it stopped, so nothing is skipped. */
  private resumeInPlace(p: number): void {
    const consumer = this.consumer;
    if (this.rooms[p] === 0 || !consumer || !this.paused.has(p)) return;
    try {
      consumer.resume([{ topic: this.options.topic, partitions: [p] }]);
      this.paused.delete(p);
    } catch (error) {
      this.logger.error(`cannot resume ${this.options.topic}[${p}]: ${describe(error)}`);
    }
  }

  private async highWatermark(p: number): Promise<string> {
    const offsets = this.watermarks ? await this.watermarks(this.options.topic) : await this.fetchOffsets();
    const entry = offsets.find((o) => o.partition === p);
    if (!entry) throw new Error(`no offsets for ${this.options.topic}[${p}]`);
    return entry.high;
  }

  private async fetchOffsets(): Promise<{ partition: number; high: string }[]> {
    const admin = await this.connectedAdmin();
    return admin.fetchTopicOffsets(this.options.topic);
  }

  private async connectedAdmin(): Promise<Admin> {
    if (this.admin) return this.admin;
    if (!this.kafka) throw new Error('no Kafka client to read offsets with');
    const kafka = this.kafka;
    this.adminConnecting ??= (async () => {
      const admin = kafka.admin();
      await admin.connect();
      this.admin = admin;
      return admin;
    })().catch((error: unknown) => {
      this.adminConnecting = undefined;
      throw error;
    });
    return this.adminConnecting;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
