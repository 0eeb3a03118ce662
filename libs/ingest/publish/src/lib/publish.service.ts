import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { canAccessRoom, type Principal } from '@seqcast/auth';
import type { BatchPublishResult, IngestRecord, JsonValue, PublishResult } from '@seqcast/contracts';
import type { RoomRecord } from '@seqcast/kafka';
import { ApiError } from './api-error';
import { ingestMetrics } from './ingest.metrics';
import {
  type Clock,
  INGEST_CLOCK,
  INGEST_PUBLISH_OPTIONS,
  type IngestPublishOptions,
  RECORD_PRODUCER,
  type RecordProducer,
} from './ingest-publish.options';

/** One message to write, already validated against the contract schemas. */
export interface OutgoingMessage {
  roomId: string;
  clientMsgId: string;
  payload: unknown;
}

/** The record value for one message: the sender comes from the token, never from the body. */
export function buildIngestRecord(message: OutgoingMessage, senderId: string, sentAt: Date): IngestRecord {
  return {
    v: 1,
    roomId: message.roomId,
    clientMsgId: message.clientMsgId,
    senderId,
    // The body came from JSON.parse, so whatever passed validation is JSON.
    payload: message.payload as JsonValue,
    sentAt: sentAt.toISOString(),
  };
}

/**
 * The write path: authorize, build IngestRecords, write them in one producer call and answer only
 * once Kafka acknowledged them (the producer uses acks=-1), so a 202 means the message is durable.
 * On shutdown the producer is disconnected only after IngestDrain saw every request answered, and
 * its disconnect waits for queued sends, so nothing accepted is dropped.
 */
@Injectable()
export class PublishService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('PublishService');

  constructor(
    @Inject(RECORD_PRODUCER) private readonly producer: RecordProducer,
    @Inject(INGEST_PUBLISH_OPTIONS) private readonly options: Pick<IngestPublishOptions, 'messagesTopic'>,
    @Inject(INGEST_CLOCK) private readonly clock: Clock,
  ) {}

  async onModuleInit(): Promise<void> {
    // A broker that is down at start-up must not keep the API from starting: readiness reports it,
    // and the producer reconnects on the next send (answering 503 while it cannot).
    await this.producer.connect().catch((error: unknown) => {
      this.logger.warn(`Kafka producer not connected yet: ${describe(error)}`);
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.producer.disconnect();
  }

  async publish(principal: Principal, message: OutgoingMessage): Promise<PublishResult> {
    const [result] = await this.write(principal, [message]);
    return result;
  }

  /** All or nothing at the API: every room must be authorized before anything is written. */
  async publishBatch(principal: Principal, messages: OutgoingMessage[]): Promise<BatchPublishResult> {
    return { results: await this.write(principal, messages) };
  }

  private async write(principal: Principal, messages: OutgoingMessage[]): Promise<PublishResult[]> {
    const denied = messages.find((m) => !canAccessRoom(principal, 'publish', m.roomId));
    if (denied) throw ApiError.forbidden(`credential does not grant publish to room "${denied.roomId}"`);

    const sentAt = this.clock();
    const records: RoomRecord[] = messages.map((m) => ({
      roomId: m.roomId,
      value: JSON.stringify(buildIngestRecord(m, principal.userId, sentAt)),
    }));
    const stopTimer = ingestMetrics.produceLatency.startTimer();
    const produced = await this.producer.send(this.options.messagesTopic, records);
    // Only acknowledged sends are timed: failures are counted as rejects (503), and a refused
    // connection answering in a millisecond would otherwise drag the quantiles down.
    stopTimer();
    if (produced.length !== messages.length) {
      throw new Error(`producer acknowledged ${produced.length} records for ${messages.length} sent`);
    }
    ingestMetrics.acceptedMessages.inc(messages.length);
    return messages.map((m, i) => ({
      roomId: m.roomId,
      clientMsgId: m.clientMsgId,
      partition: produced[i].partition,
      offset: produced[i].offset,
    }));
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
