/**
 * Reads every partition of the events topic (sequenced messages the ordering worker republishes)
 * and hands each partition batch, grouped by room, to the fan-out. Each gateway instance is its
 * own consumer group starting at the latest offset: it only delivers live traffic; anything
 * older, or anything it missed, comes from PostgreSQL (see SubscriptionService).
 */
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Consumer, EachBatchPayload, Kafka } from '@seqcast/kafka';
import { EVENTS_CONSUMER_OPTIONS, KAFKA_CLIENT } from './delivery.tokens';
import { decodeEventBatch } from './events-decoder';
import { gatewayMetrics } from './gateway.metrics';
import { SubscriptionService } from './subscription.service';

export interface EventsConsumerOptions {
  /** SEQCAST_EVENTS_TOPIC */
  eventsTopic: string;
  /** `seqcast-gateway-<GATEWAY_INSTANCE_ID>` */
  groupId: string;
}

/** Bounds how long an idle fetch (and so a graceful shutdown) waits; delivery latency is unaffected. */
const MAX_FETCH_WAIT_MS = 1000;

@Injectable()
export class EventsConsumerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(EventsConsumerService.name);
  private consumer: Consumer | undefined;
  private joined = false;
  private fetchStartedSinceJoin = false;
  /** Joined, and a fetch completed since, so the start offsets are resolved: live traffic flows. */
  private consuming = false;
  private fatal: string | undefined;

  constructor(
    @Inject(KAFKA_CLIENT) private readonly kafka: Kafka,
    @Inject(EVENTS_CONSUMER_OPTIONS) private readonly options: EventsConsumerOptions,
    private readonly subscriptions: SubscriptionService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const consumer = this.kafka.consumer({
      groupId: this.options.groupId,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: MAX_FETCH_WAIT_MS,
    });
    this.consumer = consumer;
    const { GROUP_JOIN, FETCH_START, FETCH, REBALANCING, CRASH, STOP } = consumer.events;
    consumer.on(GROUP_JOIN, () => {
      this.joined = true;
      this.fetchStartedSinceJoin = false;
      this.consuming = false;
    });
    consumer.on(FETCH_START, () => {
      if (this.joined) this.fetchStartedSinceJoin = true;
    });
    consumer.on(FETCH, () => {
      if (this.fetchStartedSinceJoin && !this.consuming) {
        this.consuming = true;
        this.logger.log(`consuming ${this.options.eventsTopic} as group ${this.options.groupId}`);
      }
    });
    consumer.on(REBALANCING, () => this.notConsuming());
    consumer.on(STOP, () => this.notConsuming());
    consumer.on(CRASH, ({ payload }) => {
      this.notConsuming();
      if (!payload.restart) {
        this.fatal = payload.error.message;
        this.logger.error(`events consumer stopped for good: ${payload.error.message}`);
      }
    });

    await consumer.connect();
    await consumer.subscribe({ topic: this.options.eventsTopic, fromBeginning: false });
    await consumer.run({ eachBatch: (payload) => this.handleBatch(payload) });
  }

  /** After the drain (DrainService): sockets keep getting live messages until they are told to go. */
  async onApplicationShutdown(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = undefined;
    await consumer?.disconnect();
  }

  /** Readiness: throws until live events flow (and after the consumer stopped). */
  async checkConsuming(): Promise<void> {
    if (this.fatal) throw new Error(`events consumer stopped: ${this.fatal}`);
    if (!this.consuming) throw new Error(`not yet consuming ${this.options.eventsTopic}`);
  }

  private notConsuming(): void {
    this.joined = false;
    this.fetchStartedSinceJoin = false;
    this.consuming = false;
  }

  private async handleBatch({ batch, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    if (!isRunning() || isStale()) return;
    gatewayMetrics.eventsConsumerLag.set({ partition: String(batch.partition) }, Number(batch.offsetLag()));
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
    await heartbeat();
  }
}
