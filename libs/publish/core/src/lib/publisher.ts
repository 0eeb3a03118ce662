import { Logger } from '@nestjs/common';
import { canAccessRoom, type Principal } from '@seqcast/auth';
import { type BatchPublishResult, payloadFingerprint, type PublishResult } from '@seqcast/contracts';
import { ApiError } from '@seqcast/http-api';
import type { RoomRecord } from '@seqcast/kafka';
import { type AcceptedCopy, cacheKey, type CacheEntry, IdempotencyCache } from './idempotency-cache';
import { publishMetrics } from './publish.metrics';
import {
  buildIngestRecord,
  type Clock,
  DEFAULT_IDEMPOTENCY_CACHE_SIZE,
  type OutgoingMessage,
  type PublisherOptions,
  type RecordProducer,
  type StoredSeqReader,
} from './publish-types';

/** One item of a request after the idempotency check: to be written, or answered from an earlier copy. */
type Planned =
  | { kind: 'write'; message: OutgoingMessage; key: string; entry: CacheEntry; settle: Deferred }
  | { kind: 'duplicate'; message: OutgoingMessage; copy: AcceptedCopy | Promise<AcceptedCopy> };

interface Deferred {
  resolve(copy: AcceptedCopy): void;
  reject(error: unknown): void;
}

/**
 * The write path, shared by every entry point (the ingest HTTP API and the gateway's socket
 * `publish` event): authorize, build IngestRecords, write them in one producer call and answer only
 * once Kafka acknowledged them (the producer uses acks=-1), so a result means the message is
 * durable. Rejections are ApiErrors (status, protocol code, message); a broker that cannot take
 * writes surfaces as the producer's KafkaUnavailableError. Each entry point turns both into its
 * own answer (an HTTP envelope, a failed ack: see publishFailureOf).
 *
 * Idempotency (key: room, sender, clientMsgId) is checked against this instance's memory of recent
 * copies (IdempotencyCache), never the database, so a publish costs no extra round trip: a retry
 * with the same payload is answered from the first copy without writing it again; a different
 * payload under a remembered key is refused with 409. What this instance does not remember (another
 * instance's copies, copies from before a restart) the ordering worker settles from PostgreSQL.
 *
 * The owner starts it (connect) and stops it (disconnect) once every publish in flight was
 * answered: the producer's disconnect waits for queued sends, so nothing accepted is dropped.
 */
export class Publisher {
  private readonly logger = new Logger('Publisher');
  private readonly recent: IdempotencyCache;

  constructor(
    private readonly producer: RecordProducer,
    private readonly options: PublisherOptions,
    private readonly clock: Clock,
    private readonly seqReader?: StoredSeqReader,
  ) {
    this.recent = new IdempotencyCache(options.idempotencyCacheSize ?? DEFAULT_IDEMPOTENCY_CACHE_SIZE);
  }

  async start(): Promise<void> {
    // A broker that is down at start-up must not keep the service from starting: readiness reports
    // it, and the producer reconnects on the next send (answering unavailable while it cannot).
    await this.producer.connect().catch((error: unknown) => {
      this.logger.warn(`Kafka producer not connected yet: ${describe(error)}`);
    });
  }

  async stop(): Promise<void> {
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

    const planned = this.plan(principal.userId, messages);
    const writes = planned.filter((p) => p.kind === 'write');
    if (writes.length > 0) await this.send(principal.userId, writes);
    const duplicates = planned.length - writes.length;
    if (duplicates > 0) publishMetrics.duplicateMessages.inc(duplicates);
    return Promise.all(planned.map((item) => this.result(principal.userId, item)));
  }

  /**
   * Decides every item before anything is written, so a conflict refuses the whole request. Items
   * to write are remembered at once (as pending), so a concurrent retry waits for this write.
   */
  private plan(senderId: string, messages: OutgoingMessage[]): Planned[] {
    const checked = messages.map((message) => {
      const key = cacheKey(message.roomId, senderId, message.clientMsgId);
      return { message, key, fingerprint: payloadFingerprint(message.payload) };
    });
    const inRequest = new Map<string, { fingerprint: string; index: number }>();
    for (const [index, { message, key, fingerprint }] of checked.entries()) {
      const earlier = inRequest.get(key);
      if (earlier && earlier.fingerprint !== fingerprint) {
        throw conflict(message, `item ${earlier.index} of this batch uses it for a different payload`);
      }
      if (!earlier) inRequest.set(key, { fingerprint, index });
      const known = earlier ? undefined : this.recent.get(key);
      if (known && known.fingerprint !== fingerprint) {
        const where = isSettled(known.copy)
          ? `accepted at partition ${known.copy.partition}, offset ${known.copy.offset}`
          : 'being accepted';
        throw conflict(message, `a copy with a different payload was ${where}`);
      }
    }
    const pending = new Map<string, CacheEntry>();
    return checked.map(({ message, key, fingerprint }): Planned => {
      const known = pending.get(key) ?? this.recent.get(key);
      if (known) return { kind: 'duplicate', message, copy: known.copy };
      let settle: Deferred = { resolve: () => undefined, reject: () => undefined };
      const copy = new Promise<AcceptedCopy>((resolve, reject) => (settle = { resolve, reject }));
      // Only retries that arrive while this write is in flight await it; nobody else may.
      copy.catch(() => undefined);
      const entry: CacheEntry = { fingerprint, copy };
      pending.set(key, entry);
      this.recent.set(key, entry);
      return { kind: 'write', message, key, entry, settle };
    });
  }

  private async send(senderId: string, writes: Extract<Planned, { kind: 'write' }>[]): Promise<void> {
    const sentAt = this.clock();
    const records: RoomRecord[] = writes.map((w) => ({
      roomId: w.message.roomId,
      value: JSON.stringify(buildIngestRecord(w.message, senderId, sentAt)),
    }));
    const stopTimer = publishMetrics.produceLatency.startTimer();
    try {
      const produced = await this.producer.send(this.options.messagesTopic, records);
      // Only acknowledged sends are timed: failures are counted as rejects (503), and a refused
      // connection answering in a millisecond would otherwise drag the quantiles down.
      stopTimer();
      if (produced.length !== writes.length) {
        throw new Error(`producer acknowledged ${produced.length} records for ${writes.length} sent`);
      }
      writes.forEach((w, i) => {
        const copy = { partition: produced[i].partition, offset: produced[i].offset };
        w.entry.copy = copy;
        w.settle.resolve(copy);
      });
    } catch (error) {
      // Not accepted: a retry must write again, and waiting retries fail the same way.
      for (const w of writes) {
        this.recent.forget(w.key, w.entry);
        w.settle.reject(error);
      }
      throw error;
    }
    publishMetrics.acceptedMessages.inc(writes.length);
  }

  private async result(senderId: string, item: Planned): Promise<PublishResult> {
    const { roomId, clientMsgId } = item.message;
    const copy = item.kind === 'write' ? await item.entry.copy : await item.copy;
    const result: PublishResult = { roomId, clientMsgId, partition: copy.partition, offset: copy.offset, duplicate: false };
    if (item.kind === 'write') return result;
    result.duplicate = true;
    const seq = await this.storedSeq(roomId, senderId, clientMsgId);
    if (seq !== undefined) result.seq = seq;
    return result;
  }

  /**
   * The seq of a stored message, for a duplicate's answer. Only retries pay this read, never a
   * first publish; a failing database costs the field, not the 202 (the copy is in Kafka).
   */
  private async storedSeq(roomId: string, senderId: string, clientMsgId: string): Promise<number | undefined> {
    if (!this.seqReader) return undefined;
    try {
      return await this.seqReader.findSeq({ roomId, senderId, clientMsgId });
    } catch (error) {
      this.logger.warn(`seq of duplicate ${roomId}/${clientMsgId} not looked up: ${describe(error)}`);
      return undefined;
    }
  }
}

function isSettled(copy: AcceptedCopy | Promise<AcceptedCopy>): copy is AcceptedCopy {
  return !(copy instanceof Promise);
}

function conflict(message: OutgoingMessage, detail: string): ApiError {
  return ApiError.idempotencyConflict(
    `clientMsgId "${message.clientMsgId}" was already used by this sender in room "${message.roomId}": ${detail}; ` +
      'a retry must carry the same payload, a new message needs a new clientMsgId',
  );
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
