/**
 * Reads every partition of the events topic (sequenced messages the ordering worker republishes)
 * and hands each partition batch, grouped by room, to the fan-out. Each gateway instance is its
 * own consumer group starting at the latest offset: it only delivers live traffic; anything
 * older, or anything it missed, comes from PostgreSQL (see SubscriptionService).
 */
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  Optional,
} from '@nestjs/common';
import type { Consumer, EachBatchPayload, Kafka } from '@seqcast/kafka';
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
}

/** Bounds how long an idle fetch (and so a graceful shutdown) waits; delivery latency is unaffected. */
const MAX_FETCH_WAIT_MS = 1000;
/**
 * Backoff for recreating a consumer that kafkajs crashed with `restart: false` (it does so on some
 * non-retriable errors, e.g. KafkaJSGroupCoordinatorNotFound while the broker shuts down:
 * tulios/kafkajs#1445, #1630): 1 s, doubling up to 30 s, back to 1 s once a consumer joins/fetches.
 */
export const RESTART_INITIAL_DELAY_MS = 1000;
export const RESTART_MAX_DELAY_MS = 30_000;

@Injectable()
export class EventsConsumerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(EventsConsumerService.name);
  private consumer: Consumer | undefined;
  private joined = false;
  private fetchStartedSinceJoin = false;
  /** Joined, and a fetch completed since, so the start offsets are resolved: live traffic flows. */
  private consuming = false;
  /** Why the consumer stopped for good (a CRASH kafkajs does not restart); cleared once it is recreated. */
  private fatal: string | undefined;
  private stopping = false;
  /** The single pending recreation of a consumer kafkajs crashed without restarting. */
  private restartTimer: ReturnType<typeof setTimeout> | undefined;
  private restartDelayMs = RESTART_INITIAL_DELAY_MS;

  constructor(
    @Inject(KAFKA_CLIENT) private readonly kafka: Kafka,
    @Inject(EVENTS_CONSUMER_OPTIONS) private readonly options: EventsConsumerOptions,
    private readonly subscriptions: SubscriptionService,
    @Optional() @Inject(PARTITION_INTEREST) private readonly interest?: PartitionInterest,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.startConsumer();
  }

  /** After the drain (DrainService): sockets keep getting live messages until they are told to go. */
  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) {
      clearTimeout(this.restartTimer);
      this.restartTimer = undefined;
    }
    const consumer = this.consumer;
    this.consumer = undefined;
    await consumer?.disconnect();
  }

  /** Readiness: throws until live events flow (and while a crashed consumer is being recreated). */
  async checkConsuming(): Promise<void> {
    if (this.fatal) throw new Error(`events consumer stopped: ${this.fatal} (recreating it)`);
    if (!this.consuming) throw new Error(`not yet consuming ${this.options.eventsTopic}`);
  }

  /**
   * Creates, connects, subscribes and runs a consumer. It becomes `this.consumer` before connecting,
   * so a shutdown meanwhile disconnects it; events of a consumer that was replaced are ignored.
   */
  private async startConsumer(): Promise<Consumer> {
    const consumer = this.kafka.consumer({
      groupId: this.options.groupId,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: MAX_FETCH_WAIT_MS,
    });
    this.consumer = consumer;
    const current = () => this.consumer === consumer;
    const { GROUP_JOIN, FETCH_START, FETCH, REBALANCING, CRASH, STOP } = consumer.events;
    consumer.on(GROUP_JOIN, () => {
      if (!current()) return;
      this.joined = true;
      this.fetchStartedSinceJoin = false;
      this.consuming = false;
      this.restartDelayMs = RESTART_INITIAL_DELAY_MS;
    });
    consumer.on(FETCH_START, () => {
      if (!current()) return;
      this.restartDelayMs = RESTART_INITIAL_DELAY_MS;
      if (this.joined) this.fetchStartedSinceJoin = true;
    });
    consumer.on(FETCH, () => {
      if (!current()) return;
      if (this.fetchStartedSinceJoin && !this.consuming) {
        this.consuming = true;
        this.logger.log(`consuming ${this.options.eventsTopic} as group ${this.options.groupId}`);
      }
    });
    consumer.on(REBALANCING, () => {
      if (current()) this.notConsuming();
    });
    consumer.on(STOP, () => {
      if (current()) this.notConsuming();
    });
    consumer.on(CRASH, ({ payload }) => {
      if (!current()) return;
      this.notConsuming();
      if (payload.restart) return; // kafkajs restarts this consumer itself
      this.fatal = payload.error.message;
      if (this.stopping) {
        this.logger.warn(`events consumer crashed during shutdown: ${payload.error.message}`);
        return;
      }
      this.logger.warn(`events consumer crashed and kafkajs will not restart it: ${payload.error.message}`);
      this.scheduleRestart(`crashed: ${payload.error.message}`);
    });

    await consumer.connect();
    await consumer.subscribe({ topic: this.options.eventsTopic, fromBeginning: false });
    await consumer.run({ eachBatch: (payload) => this.handleBatch(payload) });
    if (current()) this.interest?.attach(consumer); // fetch only partitions with subscribers
    return consumer;
  }

  private scheduleRestart(reason: string): void {
    if (this.stopping || this.restartTimer) return;
    const delayMs = this.restartDelayMs;
    this.restartDelayMs = Math.min(delayMs * 2, RESTART_MAX_DELAY_MS);
    this.logger.warn(`recreating the events consumer in ${delayMs} ms (${reason})`);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      void this.restartConsumer(reason);
    }, delayMs);
  }

  /** Replaces the crashed consumer by a new one; schedules another attempt if that fails. */
  private async restartConsumer(reason: string): Promise<void> {
    if (this.stopping) return;
    const crashed = this.consumer;
    this.consumer = undefined;
    this.notConsuming();
    this.logger.log(`recreating the events consumer (${reason})`);
    await crashed?.disconnect().catch((error: unknown) => {
      this.logger.warn(`disconnecting the crashed events consumer failed: ${errorMessage(error)}`);
    });
    if (this.stopping) return;
    let consumer: Consumer;
    try {
      consumer = await this.startConsumer();
    } catch (error) {
      if (this.stopping) return;
      // The failed consumer stays `this.consumer`: the next attempt (or the shutdown) disconnects it.
      this.logger.warn(`recreating the events consumer failed: ${errorMessage(error)}`);
      this.scheduleRestart(`recreating failed: ${errorMessage(error)}`);
      return;
    }
    if (this.stopping) {
      // The shutdown disconnected it while it was connecting; make sure it does not keep running.
      await consumer.disconnect().catch(() => undefined);
      return;
    }
    if (this.restartTimer) return; // the new consumer crashed already
    this.fatal = undefined;
    this.logger.log(`events consumer recreated; waiting for it to join group ${this.options.groupId}`);
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

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
