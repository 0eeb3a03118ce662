/**
 * A kafkajs consumer that never stays dead while its process lives, and says honestly whether it
 * is consuming (ConsumerLifecycle: start, stop, status, recreation with backoff).
 *
 * kafkajs restarts a consumer itself after retriable errors, but gives up for good ("crash" with
 * `restart: false`) on some it deems fatal, e.g. KafkaJSGroupCoordinatorNotFound while a broker
 * shuts down (tulios/kafkajs#1445, #1630), and `connect()`/`run()` simply throw while the broker is
 * unreachable at start-up. This wrapper recreates the consumer with backoff in those cases; one that
 * kafkajs restarts itself is a new member too, so its old membership is abandoned (removed) as well.
 *
 * kafkajs' first fetch since the join is a FETCH that follows a FETCH_START after GROUP_JOIN (one
 * started before the join says nothing about the new assignment's offsets); its signs of life are
 * FETCH_START, FETCH and HEARTBEAT.
 */
import type { Consumer, Kafka, TopicPartitionOffset, TopicPartitionOffsetAndMetadata, TopicPartitions } from 'kafkajs';
import { ConsumerLifecycle, type ResilientConsumerOptions } from './consumer-lifecycle';
import { kafkaSettingsOf } from './kafka-client';

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class ResilientConsumer extends ConsumerLifecycle<Consumer> {
  private fetchStartedSinceJoin = false;
  private fetchedSinceJoin = false;

  constructor(
    private readonly kafka: Kafka,
    options: ResilientConsumerOptions,
  ) {
    super(options, kafkaSettingsOf(kafka));
  }

  pause(topics: TopicPartitions[]): void {
    this.consumer?.pause(topics);
  }

  resume(topics: TopicPartitions[]): void {
    this.consumer?.resume(topics);
  }

  seek(entry: TopicPartitionOffset): void {
    this.consumer?.seek(entry);
  }

  async commitOffsets(offsets: TopicPartitionOffsetAndMetadata[]): Promise<void> {
    if (!this.consumer) throw new Error(`${this.options.name} has no consumer`);
    await this.consumer.commitOffsets(offsets);
  }

  protected async launch(): Promise<void> {
    const consumer = this.kafka.consumer({
      ...this.options.consumer,
      sessionTimeout: this.timeouts.sessionTimeoutMs,
      heartbeatInterval: this.timeouts.heartbeatIntervalMs,
      rebalanceTimeout: this.timeouts.rebalanceTimeoutMs,
    });
    this.consumer = consumer;
    this.watch(consumer);
    try {
      await consumer.connect();
      await consumer.subscribe(this.options.subscribe);
      // Resolves once the first join completed, or after kafkajs handled a failed one (CRASH).
      await consumer.run(this.options.run);
    } catch (error) {
      if (!this.isCurrent(consumer)) return;
      this.abandonMembership();
      this.notMember(`starting failed: ${describe(error)}`);
      this.recreateLater(consumer, `starting failed: ${describe(error)}`);
    }
  }

  protected assigned(): void {
    this.fetchStartedSinceJoin = false;
    this.fetchedSinceJoin = false;
  }

  protected firstFetchPending(): string | undefined {
    return this.fetchedSinceJoin ? undefined : 'first fetch pending';
  }

  /** Disconnects the consumer kafkajs gave up on (or that never started). */
  protected async retire(failed: Consumer): Promise<void> {
    await failed.disconnect().catch(() => undefined);
  }

  protected async leave(consumer: Consumer | undefined): Promise<void> {
    // disconnect() waits for the batches in flight, then sends LeaveGroup: the others rebalance at once.
    await consumer?.disconnect().catch((error: unknown) => {
      this.options.logger.warn(`${this.options.name} disconnect: ${describe(error)}`);
    });
  }

  private watch(consumer: Consumer): void {
    const current = () => this.isCurrent(consumer);
    const { GROUP_JOIN, FETCH, FETCH_START, HEARTBEAT, REBALANCING, STOP, CRASH } = consumer.events;
    consumer.on(GROUP_JOIN, ({ payload }) => {
      if (current()) this.joined(consumer, payload, payload.memberAssignment);
    });
    const alive = () => {
      if (current()) this.showedLife();
    };
    consumer.on(FETCH_START, () => {
      if (!current()) return;
      alive();
      if (this.isMember) this.fetchStartedSinceJoin = true;
    });
    consumer.on(FETCH, () => {
      if (!current()) return;
      alive();
      if (this.fetchStartedSinceJoin) this.fetchedSinceJoin = true;
    });
    consumer.on(HEARTBEAT, alive);
    consumer.on(REBALANCING, () => {
      if (current()) this.notMember('rebalancing');
    });
    consumer.on(STOP, () => {
      if (current()) this.notMember('stopped');
    });
    consumer.on(CRASH, ({ payload }) => {
      if (!current()) return;
      const reason = describe(payload.error);
      // Restarted or recreated, the consumer rejoins as a new member: the current one is abandoned.
      this.abandonMembership();
      this.notMember(`crashed (${reason})${payload.restart ? '; kafkajs restarts it' : ''}`);
      // kafkajs restarts it itself (as a new member); rejoining is what status() waits for.
      if (payload.restart) return;
      this.options.logger.warn(`${this.options.name} crashed and kafkajs will not restart it: ${reason}`);
      this.recreateLater(consumer, `crashed: ${reason}`);
    });
  }
}
