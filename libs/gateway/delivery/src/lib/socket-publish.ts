/**
 * `publish` over the socket (docs/protocol.md "Publishing over the socket"): chat-style clients
 * send on the connection they already hold instead of opening an HTTP request per message. The
 * second entry point of the one write path (@seqcast/publish-core, which ingest-api's
 * POST /v1/rooms/:roomId/messages uses too), so the answer is the same in every respect: the 202
 * body as `result`, the same error codes, the publish capability, idempotency per
 * (room, sender, clientMsgId) and the per-principal rate limit (one budget with HTTP when Redis is
 * shared). Checks run in the HTTP order: size (the body parser), rate limit (the guard),
 * validation, then the capability and idempotency inside the Publisher.
 */
import { Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Principal } from '@seqcast/auth';
import { ErrorCode, type PublishAck, type PublishFailed, socketPublishRequestSchema, validate } from '@seqcast/contracts';
import { RETRY_AFTER_SECONDS } from '@seqcast/http-api';
import {
  Publisher,
  publishFailureOf,
  PublishRateLimiter,
  type PublishRateLimitOptions,
  type RateLimitStore,
  type RecordProducer,
  type StoredSeqReader,
} from '@seqcast/publish-core';

export interface SocketPublishOptions {
  /** SEQCAST_MESSAGES_TOPIC: where accepted messages are written (the topic ingest-api writes). */
  messagesTopic: string;
  /** SEQCAST_PARTITIONS: the producer's room -> partition mapping must agree with every other service. */
  partitions: number;
  /**
   * INGEST_MAX_BODY_BYTES: the largest `publish` request, measured as its JSON, the same bound as
   * an HTTP publish body (and below Kafka's max.message.bytes for the same reason).
   */
  maxPayloadBytes: number;
  /** INGEST_PUBLISH_RATE_PER_SEC (and SEQCAST_REDIS_URL): the per-principal budget HTTP publishes spend too. */
  rateLimit: PublishRateLimitOptions;
  /** Recently accepted keys remembered for retries; default DEFAULT_IDEMPOTENCY_CACHE_SIZE. */
  idempotencyCacheSize?: number;
}

/** What the handler needs of the connection: who it authenticated as, and whether the gateway is draining. */
export interface PublishContext {
  principal: Principal | undefined;
  draining: boolean;
}

export class SocketPublisher implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('SocketPublisher');
  private readonly publisher: Publisher;
  private readonly limiter: PublishRateLimiter;

  constructor(
    producer: RecordProducer,
    private readonly options: SocketPublishOptions,
    seqs: StoredSeqReader | undefined,
    private readonly store?: RateLimitStore,
    clock: () => Date = () => new Date(),
  ) {
    this.publisher = new Publisher(
      producer,
      { messagesTopic: options.messagesTopic, idempotencyCacheSize: options.idempotencyCacheSize },
      clock,
      seqs,
    );
    this.limiter = new PublishRateLimiter(options.rateLimit, store);
  }

  async onModuleInit(): Promise<void> {
    await this.publisher.start();
  }

  async onApplicationShutdown(): Promise<void> {
    // By now the drain has disconnected every socket, so no publish is in flight; the producer's
    // disconnect still waits for queued sends.
    await this.publisher.stop();
    await this.store?.onApplicationShutdown();
  }

  async publish(context: PublishContext, body: unknown): Promise<PublishAck> {
    if (context.draining) {
      // The socket is about to be moved; HTTP (or the next gateway) takes the message meanwhile.
      return failed(ErrorCode.Unavailable, 'this gateway is shutting down; publish over HTTP or retry', RETRY_AFTER_SECONDS * 1000);
    }
    const principal = context.principal;
    if (!principal) return failed(ErrorCode.Unauthorized, 'not authenticated');
    const size = jsonBytes(body);
    if (size > this.options.maxPayloadBytes) {
      return failed(ErrorCode.PayloadTooLarge, `publish request exceeds the limit of ${this.options.maxPayloadBytes} bytes`);
    }
    try {
      await this.limiter.consume(principal.userId, 1);
      const request = validate(socketPublishRequestSchema, body);
      if (!request.ok) return failed(ErrorCode.InvalidRequest, request.message);
      const { roomId, clientMsgId, payload } = request.value;
      return { ok: true, result: await this.publisher.publish(principal, { roomId, clientMsgId, payload }) };
    } catch (error) {
      const failure = publishFailureOf(error);
      if (!failure) {
        this.logger.error(`publish failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        return failed(ErrorCode.Internal, 'internal server error');
      }
      if (failure.detail) this.logger.warn(`publish answered ${failure.code}: ${failure.detail}`);
      return failed(failure.code, failure.message, failure.retryAfterMs);
    }
  }
}

function failed(code: ErrorCode, message: string, retryAfterMs?: number): PublishFailed {
  return { ok: false, error: { code, message, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) } };
}

/** The request's size as JSON, which is what it costs on the wire and in the Kafka record. */
function jsonBytes(body: unknown): number {
  try {
    return Buffer.byteLength(JSON.stringify(body) ?? '', 'utf8');
  } catch {
    // Not serialisable (cannot come off a Socket.IO frame, but never let it reach the producer).
    return Number.POSITIVE_INFINITY;
  }
}
