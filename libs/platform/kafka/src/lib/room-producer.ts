/**
 * The one way Seqcast writes to Kafka. Every record goes to an explicit partition (never kafkajs'
 * partitioner), through an idempotent producer with acks=all, and comes back with its exact offset,
 * which the ordering worker turns into the message's sequence number.
 *
 * Concurrent `send` calls are coalesced into one produce request while the previous one is in
 * flight: kafkajs serialises idempotent requests per broker anyway, so this turns a queue of tiny
 * requests into fewer, larger ones without changing any caller's ordering.
 *
 * Bounded waits while Kafka is down: every send settles within `sendTimeoutMs` of the call, queue
 * time included. Once a request failed because Kafka is unavailable, the producer knows it: the
 * queue is failed at once and later sends fail immediately (KafkaUnavailableError, i.e. 503 +
 * Retry-After at the ingest API) instead of each waiting for kafkajs' retries, while a background
 * probe reconnects every PROBE_INTERVAL_MS; its first success lets sends through again.
 */
import type { Kafka, Message, Producer, RecordMetadata, TopicMessages } from 'kafkajs';
import { partitionForRoom } from '@seqcast/room-partitioner';
import { kafkaClientOf, kafkaSettingsOf } from './kafka-client';
import { KafkaUnavailableError, toKafkaUnavailable } from './kafka-errors';
import { loadPlatformaticKafka } from './platformatic-client';
import { PlatformaticRoomTransport, type RoomTransport } from './platformatic-room-transport';

export interface RoomRecord {
  roomId: string;
  value: string | Buffer;
}

export interface ProducedRecord {
  roomId: string;
  partition: number;
  offset: number;
}

export interface RoomProducerOptions {
  partitions: number;
  /** Upper bound for one send, connecting included; past it the caller gets KafkaUnavailableError. */
  sendTimeoutMs?: number;
  /**
   * How long an idle producer holds the first send before flushing, so that more can join its
   * request. 0 (the default) sends at once: coalescing while a request is in flight already batches
   * under load, and `npm run bench -- produce` measured no latency gain from lingering (docs/benchmarks.md).
   */
  lingerMs?: number;
}

const DEFAULT_SEND_TIMEOUT_MS = 10_000;
// Broker-side wait for the in-sync replicas' acks; kept under the send deadline.
const ACK_TIMEOUT_MS = 5_000;
// Retries inside one send (kafkajs backs off 200 ms → 2 s); the send deadline caps the total.
const PRODUCER_RETRY = { retries: 5, initialRetryTime: 200, maxRetryTime: 2000 };
// Coalescing stops here so a merged request stays well under the broker's 1 MiB batch limit.
const COALESCE_MAX_BYTES = 512 * 1024;
const COALESCE_MAX_RECORDS = 2000;
/** Pause between reconnection attempts while Kafka is known unavailable. */
const PROBE_INTERVAL_MS = 1_000;

interface PlannedRecord {
  topic: string;
  partition: number;
  roomId: string;
  value: string | Buffer;
}

interface PendingSend {
  records: PlannedRecord[];
  bytes: number;
  /** Settles the caller's promise once; later outcomes (a late flush, a deadline) are ignored. */
  resolve(produced: ProducedRecord[]): void;
  reject(error: unknown): void;
}

/**
 * Offsets of one produce request: within a topic-partition, records are appended as one batch,
 * contiguous from its base offset in request order.
 */
export function assignOffsets(records: PlannedRecord[], metadata: RecordMetadata[]): ProducedRecord[] {
  const key = (topic: string, partition: number) => `${partition}\u0000${topic}`;
  const baseOffsets = new Map<string, number>();
  for (const entry of metadata) {
    if (entry.baseOffset === undefined || entry.errorCode !== 0) continue;
    baseOffsets.set(key(entry.topicName, entry.partition), Number(entry.baseOffset));
  }
  const nextIndex = new Map<string, number>();
  return records.map(({ topic, partition, roomId }) => {
    const k = key(topic, partition);
    const base = baseOffsets.get(k);
    // Seen during broker leader changes (kafkajs retried the partition elsewhere and dropped its
    // answer): the write may well have landed, so this is "retry with the same ids" (503), not a 500.
    if (base === undefined)
      throw new KafkaUnavailableError(`produce response has no base offset for ${topic}[${partition}]`);
    const index = nextIndex.get(k) ?? 0;
    nextIndex.set(k, index + 1);
    return { roomId, partition, offset: base + index };
  });
}

function byteLength(value: string | Buffer): number {
  return typeof value === 'string' ? Buffer.byteLength(value) : value.length;
}

export class RoomProducer {
  private readonly partitions: number;
  private readonly sendTimeoutMs: number;
  private readonly lingerMs: number;
  private lingering: NodeJS.Timeout | undefined;
  private state: 'new' | 'open' | 'closing' | 'closed' = 'new';
  private producer: Promise<RoomTransport> | undefined;
  private queue: PendingSend[] = [];
  private flushing = false;
  private idleWaiters: Array<() => void> = [];
  /** Set when a request failed because Kafka is unavailable; cleared once the probe reconnects. */
  private unavailable: { since: number; reason: string } | undefined;
  private probing = false;

  constructor(
    private readonly kafka: Kafka,
    options: RoomProducerOptions,
  ) {
    if (!Number.isInteger(options.partitions) || options.partitions < 1) {
      throw new RangeError(`partitions must be a positive integer (got ${options.partitions})`);
    }
    this.partitions = options.partitions;
    this.sendTimeoutMs = options.sendTimeoutMs ?? DEFAULT_SEND_TIMEOUT_MS;
    this.lingerMs = options.lingerMs ?? 0;
    if (!(this.lingerMs >= 0)) throw new RangeError(`lingerMs must be >= 0 (got ${options.lingerMs})`);
  }

  /**
   * Connects now so a misconfigured broker list shows at startup. If it fails (KafkaUnavailableError)
   * the producer stays usable: each later send tries to connect again.
   */
  async connect(): Promise<void> {
    if (this.state === 'closing' || this.state === 'closed') throw new Error('RoomProducer was disconnected');
    this.state = 'open';
    // The deadline is Kafka's: the client library is loaded before it starts.
    if (kafkaClientOf(this.kafka) === 'platformatic') await loadPlatformaticKafka();
    const producer = this.currentProducer();
    try {
      await this.withDeadline(producer, 'connect');
    } catch (error) {
      this.discardProducer(producer);
      throw error;
    }
  }

  /** Waits for queued sends to finish, then closes the connection. */
  async disconnect(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closing';
    await new Promise<void>((resolve) => {
      if (!this.flushing && this.queue.length === 0) resolve();
      else this.idleWaiters.push(resolve);
    });
    this.state = 'closed';
    const producer = this.producer;
    this.producer = undefined;
    await producer?.then((p) => p.disconnect()).catch(() => undefined);
  }

  /** Each record goes to partitionForRoom(roomId); results are in input order. */
  send(topic: string, records: RoomRecord[]): Promise<ProducedRecord[]> {
    return this.enqueue(
      records.map(({ roomId, value }) => ({
        topic,
        partition: partitionForRoom(roomId, this.partitions),
        roomId,
        value,
      })),
    );
  }

  /** For republishing: keeps records on the partition they were consumed from. */
  sendToPartition(topic: string, partition: number, records: RoomRecord[]): Promise<ProducedRecord[]> {
    if (!Number.isInteger(partition) || partition < 0 || partition >= this.partitions) {
      return Promise.reject(new RangeError(`partition must be an integer 0-${this.partitions - 1} (got ${partition})`));
    }
    return this.enqueue(records.map(({ roomId, value }) => ({ topic, partition, roomId, value })));
  }

  private enqueue(records: PlannedRecord[]): Promise<ProducedRecord[]> {
    if (this.state !== 'open') {
      return Promise.reject(new Error('RoomProducer.send called before connect() or after disconnect()'));
    }
    if (records.length === 0) return Promise.resolve([]);
    if (this.unavailable) {
      // The probe finds out when Kafka is back; until then a request could only wait for
      // kafkajs' retries to fail the same way.
      const { since, reason } = this.unavailable;
      return Promise.reject(
        new KafkaUnavailableError(`Kafka unavailable for ${Date.now() - since} ms (${reason}); not queued`),
      );
    }
    const bytes = records.reduce((sum, { roomId, value }) => sum + byteLength(roomId) + byteLength(value), 0);
    return new Promise((resolve, reject) => {
      let done = false;
      const timer = setTimeout(() => {
        this.queue = this.queue.filter((queued) => queued !== pending);
        pending.reject(new KafkaUnavailableError(`send: Kafka did not answer within ${this.sendTimeoutMs} ms`));
      }, this.sendTimeoutMs);
      const pending: PendingSend = {
        records,
        bytes,
        resolve: (produced) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          resolve(produced);
        },
        reject: (error) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          reject(error);
        },
      };
      this.queue.push(pending);
      this.pump();
    });
  }

  private pump(): void {
    if (this.flushing || this.lingering) return;
    if (this.queue.length === 0) {
      this.idleWaiters.splice(0).forEach((wake) => wake());
      return;
    }
    if (this.lingerMs > 0 && this.state === 'open') {
      // Only an idle producer lingers; behind a request in flight, sends coalesce anyway.
      this.lingering = setTimeout(() => {
        this.lingering = undefined;
        this.flushNow();
      }, this.lingerMs);
      return;
    }
    this.flushNow();
  }

  private flushNow(): void {
    if (this.flushing) return;
    if (this.queue.length === 0) return this.pump();
    this.flushing = true;
    const batch = this.takeBatch();
    void this.flush(batch).finally(() => {
      this.flushing = false;
      // What queued behind this request has waited already: no linger for it.
      this.flushNow();
    });
  }

  /** Always at least one pending send; more while they fit the coalescing limits. */
  private takeBatch(): PendingSend[] {
    let bytes = 0;
    let count = 0;
    let taken = 0;
    for (const pending of this.queue) {
      const fits =
        bytes + pending.bytes <= COALESCE_MAX_BYTES && count + pending.records.length <= COALESCE_MAX_RECORDS;
      if (taken > 0 && !fits) break;
      bytes += pending.bytes;
      count += pending.records.length;
      taken++;
    }
    return this.queue.splice(0, taken);
  }

  private async flush(batch: PendingSend[]): Promise<void> {
    const records = batch.flatMap((pending) => pending.records);
    const producer = this.currentProducer();
    try {
      const metadata = await this.withDeadline(
        producer.then((p) => p.sendRecords(records, ACK_TIMEOUT_MS)),
        'send',
      );
      const produced = assignOffsets(records, metadata);
      this.unavailable = undefined;
      let from = 0;
      for (const pending of batch) {
        pending.resolve(produced.slice(from, from + pending.records.length));
        from += pending.records.length;
      }
    } catch (error) {
      // A failed idempotent producer must not be reused: kafkajs rolls its sequence numbers back,
      // so if the broker did write the failed batch, the next batch would reuse those numbers and
      // be silently discarded as a duplicate. A fresh producer gets a fresh producer id.
      this.discardProducer(producer);
      batch.forEach((pending) => pending.reject(error));
      if (error instanceof KafkaUnavailableError) {
        this.unavailable ??= { since: Date.now(), reason: error.message };
        // They would only wait for the next request to fail the same way.
        this.queue.splice(0).forEach((pending) => pending.reject(error));
        void this.probe();
      }
    }
  }

  /** Reconnects until it succeeds (or the producer is closed), then lets sends through again. */
  private async probe(): Promise<void> {
    if (this.probing) return;
    this.probing = true;
    try {
      while (this.unavailable && this.state === 'open') {
        try {
          await this.withDeadline(this.currentProducer(), 'reconnect');
          this.unavailable = undefined;
        } catch {
          await new Promise((resolve) => setTimeout(resolve, PROBE_INTERVAL_MS).unref());
        }
      }
    } finally {
      this.probing = false;
    }
  }

  private currentProducer(): Promise<RoomTransport> {
    if (!this.producer) {
      const connected = this.connectTransport();
      this.producer = connected;
      connected.catch(() => this.discardProducer(connected));
    }
    return this.producer;
  }

  /** A connected transport of the client library chosen for `kafka` (KAFKA_CLIENT). */
  private connectTransport(): Promise<RoomTransport> {
    const settings = kafkaSettingsOf(this.kafka);
    if (settings && kafkaClientOf(this.kafka) === 'platformatic') {
      return PlatformaticRoomTransport.connect(settings, ACK_TIMEOUT_MS);
    }
    return KafkajsRoomTransport.connect(this.kafka);
  }

  private discardProducer(producer: Promise<RoomTransport> | undefined): void {
    if (!producer || this.producer !== producer) return;
    this.producer = undefined;
    producer.then((p) => p.disconnect()).catch(() => undefined);
  }

  private withDeadline<T>(work: Promise<T>, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new KafkaUnavailableError(`${what}: Kafka did not answer within ${this.sendTimeoutMs} ms`));
      }, this.sendTimeoutMs);
      work.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(toKafkaUnavailable(error, what));
        },
      );
    });
  }
}

/** RoomProducer's transport on kafkajs (the default): the same producer settings as before the switch existed. */
class KafkajsRoomTransport implements RoomTransport {
  private constructor(private readonly producer: Producer) {}

  static async connect(kafka: Kafka): Promise<KafkajsRoomTransport> {
    const producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      // Producing to a missing topic must fail, not auto-create it with the broker's default
      // partition count (which would silently break room → partition mapping).
      allowAutoTopicCreation: false,
      retry: PRODUCER_RETRY,
      // Every message carries its partition; this only exists to honour it (and to keep kafkajs
      // from warning about its default partitioner).
      createPartitioner:
        () =>
        ({ message, partitionMetadata }) =>
          message.partition ?? partitionForRoom(String(message.key), partitionMetadata.length),
    });
    await producer.connect();
    return new KafkajsRoomTransport(producer);
  }

  sendRecords(records: PlannedRecord[], ackTimeoutMs: number): Promise<RecordMetadata[]> {
    const byTopic = new Map<string, Message[]>();
    for (const { topic, partition, roomId, value } of records) {
      const messages = byTopic.get(topic) ?? [];
      messages.push({ key: roomId, value, partition });
      byTopic.set(topic, messages);
    }
    const topicMessages: TopicMessages[] = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
    return this.producer.sendBatch({ topicMessages, acks: -1, timeout: ackTimeoutMs });
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }
}
