import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { BearerAuthGuard } from '@seqcast/http-api';
import { type Kafka, RoomProducer } from '@seqcast/kafka';
import { MessageHistoryRepository } from '@seqcast/persistence';
import { RateLimitStore } from '@seqcast/publish-core';
import type { DataSource } from 'typeorm';
import { HttpErrorFilter } from './http-error.filter';
import { IngestDrain } from './ingest-drain.service';
import {
  HISTORY_DATA_SOURCE,
  INGEST_CLOCK,
  INGEST_PUBLISH_OPTIONS,
  type IngestPublishOptions,
  KAFKA_CLIENT,
  RECORD_PRODUCER,
  STORED_SEQ_READER,
} from './ingest-publish.options';
import { MessagesController } from './messages.controller';
import { PUBLISH_RATE_LIMIT_OPTIONS, PublishRateLimitGuard, RATE_LIMIT_STORE } from './publish-rate-limit.guard';
import { OpenApiController } from './openapi.controller';
import { PublishService } from './publish.service';

/**
 * The ingest HTTP API: publish and batch publish (history is @seqcast/history-query), with bearer auth and the error envelope
 * (HttpErrorFilter is registered app-wide so even unknown routes, hook and body-reader failures get it).
 * Pair with `ingestHttpAdapter()` and `configureIngestHttp(app, ...)`, which install request ids,
 * the access log, the origin policy, CORS, the drain gate and the size-limited JSON body reader. Drains on shutdown (see IngestDrain).
 */
@Module({})
export class IngestPublishModule {
  static register(options: IngestPublishOptions): DynamicModule {
    return {
      module: IngestPublishModule,
      imports: [...(options.imports ?? []), options.authentication],
      controllers: [MessagesController, OpenApiController],
      providers: [
        {
          provide: INGEST_PUBLISH_OPTIONS,
          useValue: { messagesTopic: options.messagesTopic, idempotencyCacheSize: options.idempotencyCacheSize },
        },
        { provide: KAFKA_CLIENT, inject: options.kafka.inject ?? [], useFactory: asFactory(options.kafka.useFactory) },
        {
          provide: HISTORY_DATA_SOURCE,
          inject: options.dataSource.inject ?? [],
          useFactory: asFactory(options.dataSource.useFactory),
        },
        {
          provide: RECORD_PRODUCER,
          inject: [KAFKA_CLIENT],
          useFactory: (kafka: Kafka) => new RoomProducer(kafka, { partitions: options.partitions }),
        },
        {
          provide: STORED_SEQ_READER,
          inject: [HISTORY_DATA_SOURCE],
          useFactory: (dataSource: DataSource) => new MessageHistoryRepository(dataSource),
        },
        { provide: INGEST_CLOCK, useValue: () => new Date() },
        { provide: APP_FILTER, useClass: HttpErrorFilter },
        { provide: PUBLISH_RATE_LIMIT_OPTIONS, useValue: options.publishRateLimit ?? { messagesPerSecond: 0 } },
        // Only when the limit is on: an idle Redis connection would otherwise be opened for nothing.
        {
          provide: RATE_LIMIT_STORE,
          useFactory: () =>
            new RateLimitStore(
              (options.publishRateLimit?.messagesPerSecond ?? 0) > 0 ? options.publishRateLimit?.redisUrl : undefined,
            ),
        },
        BearerAuthGuard,
        PublishRateLimitGuard,
        PublishService,
        IngestDrain,
      ],
    };
  }
}

function asFactory<T>(factory: (...deps: never[]) => T): (...deps: unknown[]) => T {
  return factory as (...deps: unknown[]) => T;
}
