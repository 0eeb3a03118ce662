/**
 * Sequenced messages onto the events topic, on the partition they were consumed from, and the
 * outbox: after a claim, and after any failed publish, stored messages from `published_offset` on
 * are republished first, so a crash between commit and publish loses no event.
 */
import type { Logger } from '@nestjs/common';
import type { Message } from '@seqcast/contracts';
import { type Kafka, RoomProducer } from '@seqcast/kafka';
import type { SequencerStore } from '@seqcast/ordering-domain';
import { workerMetrics } from '../worker.metrics';
import type { PartitionClaims, PartitionState } from './partition-claims';
import { describeError } from './worker-errors';

const OUTBOX_PAGE = 500;

export interface EventsPublisherOptions {
  eventsTopic: string;
  partitions: number;
  store: SequencerStore;
  claims: PartitionClaims;
  logger: Logger;
}

export class EventsPublisher {
  private readonly producer: RoomProducer;

  constructor(
    kafka: Kafka,
    private readonly options: EventsPublisherOptions,
  ) {
    this.producer = new RoomProducer(kafka, { partitions: options.partitions });
  }

  /** Reconnects by itself later, on its next send: a broker down at start-up only delays publishing. */
  async connect(): Promise<void> {
    await this.producer.connect().catch((error: unknown) => {
      this.options.logger.warn(`Kafka producer not connected yet (retried on first publish): ${describeError(error)}`);
    });
  }

  async disconnect(): Promise<void> {
    await this.producer
      .disconnect()
      .catch((error: unknown) => this.options.logger.warn(`producer disconnect: ${describeError(error)}`));
  }

  async send(partition: number, messages: Message[]): Promise<void> {
    if (messages.length === 0) return;
    const stopTimer = workerMetrics.publishDuration.startTimer();
    await this.producer.sendToPartition(
      this.options.eventsTopic,
      partition,
      messages.map((message) => ({ roomId: message.roomId, value: JSON.stringify(message) })),
    );
    stopTimer();
  }

  /** The outbox: republish every stored message from `published_offset` on, in seq order. */
  async publishPending(state: PartitionState): Promise<void> {
    const { claim } = state;
    const { store, claims, logger } = this.options;
    const from = state.publishedOffset;
    let count = 0;
    for (;;) {
      const page = await store.findUnpublished(claim, state.publishedOffset, OUTBOX_PAGE);
      if (page.length === 0) break;
      await this.send(claim.partition, page);
      count += page.length;
      const last = page[page.length - 1];
      if (last && !(await claims.markPublished(state, last.seq + 1))) return;
    }
    if (!(await claims.markPublished(state, state.nextOffset))) return;
    if (count > 0) {
      workerMetrics.republishedMessages.inc(count);
      logger.log(`partition ${claim.partition}: republished ${count} stored messages from offset ${from} (outbox)`);
    }
  }
}
