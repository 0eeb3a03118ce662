/**
 * RoomProducer's transport on @platformatic/kafka (KAFKA_CLIENT=platformatic): one idempotent
 * producer with acks=all; every record carries its partition (computed by RoomProducer), and the
 * answer is the base offset per topic-partition of the request, in the same form as kafkajs'
 * RecordMetadata so RoomProducer's assignOffsets maps them back to records.
 */
import type { Producer } from '@platformatic/kafka';
import type { RecordMetadata } from 'kafkajs';
import type { KafkaSettings } from './kafka-client';
import { KafkaUnavailableError } from './kafka-errors';
import { loadPlatformaticKafka, platformaticBaseOptions } from './platformatic-client';

export interface TransportRecord {
  topic: string;
  partition: number;
  roomId: string;
  value: string | Buffer;
}

/** What RoomProducer needs from a client library: one produce request, and closing. */
export interface RoomTransport {
  sendRecords(records: TransportRecord[], ackTimeoutMs: number): Promise<RecordMetadata[]>;
  disconnect(): Promise<void>;
}

export class PlatformaticRoomTransport implements RoomTransport {
  private constructor(private readonly producer: Producer<Buffer, Buffer, Buffer, Buffer>) {}

  /** Connects (metadata of the cluster and an idempotent producer id) so a broker problem shows now. */
  static async connect(settings: KafkaSettings, ackTimeoutMs: number): Promise<PlatformaticRoomTransport> {
    const { Producer } = await loadPlatformaticKafka();
    const producer = new Producer<Buffer, Buffer, Buffer, Buffer>({
      ...platformaticBaseOptions(settings),
      // The broker's wait for the in-sync replicas, like kafkajs' `timeout` of a produce request.
      timeout: ackTimeoutMs,
      idempotent: true,
      acks: -1,
      // Producing to a missing topic must fail, not create it with the broker's default partition count.
      autocreateTopics: false,
    });
    try {
      await producer.initIdempotentProducer({ idempotent: true, acks: -1 });
    } catch (error) {
      await producer.close().catch(() => undefined);
      throw error;
    }
    return new PlatformaticRoomTransport(producer);
  }

  async sendRecords(records: TransportRecord[]): Promise<RecordMetadata[]> {
    const result = await this.producer
      .send({
        messages: records.map(({ topic, partition, roomId, value }) => ({
          topic,
          partition,
          key: Buffer.from(roomId),
          value: typeof value === 'string' ? Buffer.from(value) : value,
        })),
      })
      .catch((error: unknown) => {
        // kafkajs retries UNKNOWN_TOPIC_OR_PARTITION (a topic being created, a leader moving) and then
        // fails as unavailable; this client answers at once from its metadata. Same outcome: a 503.
        if (error instanceof Error && error.message.startsWith('Unknown topic ')) {
          throw new KafkaUnavailableError(`${error.message} (UNKNOWN_TOPIC_OR_PARTITION)`, { cause: error });
        }
        throw error;
      });
    return (result.offsets ?? []).map(({ topic, partition, offset }) => ({
      topicName: topic,
      partition,
      errorCode: 0,
      baseOffset: String(offset),
    }));
  }

  async disconnect(): Promise<void> {
    await this.producer.close();
  }
}
