/**
 * Reads every partition of the events topic (sequenced messages the ordering worker republishes)
 * and hands each partition batch, grouped by room, to the fan-out. Each gateway instance is its
 * own consumer group starting at the latest offset: it only delivers live traffic; anything
 * older, or anything it missed, comes from PostgreSQL (see SubscriptionService).
 *
 * It commits no offsets. A gateway process never reads a group's commits back except when its own
 * consumer is recreated (after a broker outage), and for that it keeps its positions in memory and
 * seeks to them on the join. A group without offsets is dropped by the broker soon after its last
 * member is gone (at its next offsets-expiry check, 10 minutes by default), so the group of a
 * gateway that was killed (no shutdown hook to delete it, GroupCleanupService) does not linger for
 * the 7 days of `offsets.retention.minutes`.
 */
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  Optional,
} from '@nestjs/common';
import {
  createResilientConsumer,
  type EachBatchPayload,
  type GroupConsumer,
  type GroupTimeouts,
  type Kafka,
} from '@seqcast/kafka';
import { EVENTS_CONSUMER_OPTIONS, KAFKA_CLIENT, PARTITION_INTEREST } from './delivery.tokens';
import { decodeEventBatch } from './events-decoder';
import { gatewayMetrics } from './gateway.metrics';
import type { PartitionInterest } from './partition-interest';
import { SubscriptionService } from './subscription.service';

export interface EventsConsumerOptions {
  /** SEQCAST_EVENTS_TOPIC */
  eventsTopic: string;
  /** `seqcast-gateway-<GATEWAY_INSTANCE_ID>` */
  groupId: string;
  /**
   * GATEWAY_SESSION_TIMEOUT_MS / GATEWAY_HEARTBEAT_INTERVAL_MS / GATEWAY_REBALANCE_TIMEOUT_MS
   * (default DEFAULT_GROUP_TIMEOUTS). After a broker restart the recreated consumer waits for its
   * previous incarnation's session to expire before it rejoins: the session timeout bounds that stall.
   */
  timeouts?: GroupTimeouts;
}

/** Bounds how long an idle fetch (and so a graceful shutdown) waits; delivery latency is unaffected. */
const MAX_FETCH_WAIT_MS = 1000;

@Injectable()
export class EventsConsumerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(EventsConsumerService.name);
  private readonly consumer: GroupConsumer;
  /** Offset of the last record handed to the fan-out, per partition (a rejoin goes on after it). */
  private readonly lastOffsets = new Map<number, string>();

  constructor(
    @Inject(KAFKA_CLIENT) kafka: Kafka,
    @Inject(EVENTS_CONSUMER_OPTIONS) private readonly options: EventsConsumerOptions,
    private readonly subscriptions: SubscriptionService,
    @Optional() @Inject(PARTITION_INTEREST) private readonly interest?: PartitionInterest,
  ) {
    this.consumer = createResilientConsumer(kafka, {
      name: 'events consumer',
      consumer: { groupId: options.groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: MAX_FETCH_WAIT_MS },
      timeouts: options.timeouts,
      subscribe: { topics: [options.eventsTopic], fromBeginning: false },
      run: { eachBatch: (payload) => this.handleBatch(payload), autoCommit: false },
      onJoin: (assignment) => {
        // A recreated consumer (a new member, no commits) would start at the end: go on from where
        // this process left off, so events published while it rejoined are still delivered live.
        for (const partition of assignment[options.eventsTopic] ?? []) {
          const last = this.lastOffsets.get(partition);
          if (last !== undefined) this.consumer.seek({ topic: options.eventsTopic, partition, offset: (BigInt(last) + 1n).toString() });
        }
        const partitions = assignment[options.eventsTopic]?.length ?? 0;
        this.logger.log(
          `joined group ${options.groupId}: consuming ${partitions} partition(s) of ${options.eventsTopic}`,
        );
        // A recreated consumer (either client) starts unpaused: (re)apply the pauses on every join so only
        // partitions with subscribers here are fetched.
        this.interest?.attach(this.consumer);
      },
      logger: { log: (message) => this.logger.log(message), warn: (message) => this.logger.warn(message) },
    });
  }

  /** Does not wait for the group: sockets are served (from PostgreSQL) while the consumer joins. */
  onApplicationBootstrap(): void {
    this.consumer.start();
  }

  /** After the drain (DrainService): sockets keep getting live messages until they are told to go. */
  async onApplicationShutdown(): Promise<void> {
    await this.consumer.stop();
  }

  /** Readiness: throws until live events flow (and whenever the consumer is not a live group member). */
  async checkConsuming(): Promise<void> {
    this.consumer.assertConsuming();
  }

  /**
   * To pause and resume partitions. Pauses apply to the client consumer of the moment: one that is
   * recreated (after the client gave up on it) starts unpaused.
   */
  get eventsConsumer(): GroupConsumer {
    return this.consumer;
  }

  private async handleBatch({ batch, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    if (!isRunning() || isStale()) return;
    gatewayMetrics.eventsConsumerLag.set({ partition: String(batch.partition) }, Number(batch.offsetLag()));
    const receivedAt = Date.now();
    for (const record of batch.messages) {
      const createdAt = Number(record.timestamp);
      if (createdAt > 0) gatewayMetrics.eventsReceiveDelay.observe(Math.max(0, receivedAt - createdAt) / 1000);
    }
    const { byRoom, poison } = decodeEventBatch(batch.messages);
    if (poison.length > 0) gatewayMetrics.droppedDeliveries.inc({ reason: 'poison_event' }, poison.length);
    for (const record of poison) {
      this.logger.warn(`skipping bad record ${batch.topic}[${batch.partition}]@${record.offset}: ${record.reason}`);
    }
    for (const [roomId, messages] of byRoom) {
      try {
        this.subscriptions.dispatch(roomId, messages);
      } catch (error) {
        // One room's delivery failing must not stall the partition for every other room.
        gatewayMetrics.droppedDeliveries.inc({ reason: 'dispatch_failed' }, messages.length);
        this.logger.error(`delivery to room ${roomId} failed: ${error instanceof Error ? error.stack : String(error)}`);
      }
    }
    const last = batch.messages[batch.messages.length - 1];
    // The next offset is derived only on a rejoin, not per batch.
    if (last) this.lastOffsets.set(batch.partition, last.offset);
    await heartbeat();
  }
}
