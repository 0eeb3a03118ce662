import { type DynamicModule, type FactoryProvider, Module, type ModuleMetadata } from '@nestjs/common';
import { TokenVerifier, type TokenVerifierOptions } from '@seqcast/auth';
import { type GroupTimeouts, type Kafka, RoomProducer } from '@seqcast/kafka';
import { RateLimitStore } from '@seqcast/publish-core';
import { type DataSource, MessageHistoryRepository } from '@seqcast/persistence';
import { DeliveryGateway } from './delivery.gateway';
import {
  DRAIN_OPTIONS,
  EVENTS_CONSUMER_OPTIONS,
  KAFKA_CLIENT,
  MESSAGE_HISTORY,
  PARTITION_INTEREST,
  SUBSCRIPTION_OPTIONS,
  TOKEN_LIFETIME_OPTIONS,
  TOKEN_VERIFIER,
} from './delivery.tokens';
import { type DrainOptions, DrainService } from './drain.service';
import { type EventsConsumerOptions, EventsConsumerService } from './events-consumer.service';
import { GroupCleanupService } from './group-cleanup.service';
import { PartitionInterest } from './partition-interest';
import { GATEWAY_LIMITS, type GatewayLimitOptions, NO_LIMITS } from './gateway-limits';
import { type SubscriptionOptions, SubscriptionService } from './subscription.service';
import { SSE_OPTIONS, SseController, type SseOptions } from './sse/sse.controller';
import { SseStreams } from './sse/sse-streams.service';
import { type PresenceOptions, PresenceService } from './presence/presence.service';
import { PresenceStore } from './presence/presence.store';
import { type SocketPublishOptions, SocketPublisher } from './socket-publish';

/** A dependency the host application owns (opens and closes); the module only injects it. */
export interface HostProvided<T> {
  inject?: FactoryProvider['inject'];
  useFactory: (...deps: never[]) => T | Promise<T>;
}

export interface DeliveryModuleOptions {
  /** SEQCAST_EVENTS_TOPIC: the sequenced messages to deliver. */
  eventsTopic: string;
  /** Consumer group of this gateway instance: `seqcast-gateway-<GATEWAY_INSTANCE_ID>`. */
  groupId: string;
  /** The events consumer's group timeouts (GATEWAY_SESSION_TIMEOUT_MS...); default DEFAULT_GROUP_TIMEOUTS. */
  consumerTimeouts?: GroupTimeouts;
  /** How handshake and refresh tokens are verified (SEQCAST_JWT_*): the resolved AuthSettings. */
  auth?: TokenVerifierOptions;
  /** Shorthand for an HS256 `auth` (development and tests); ignored when `auth` is given. */
  jwtSecret?: string;
  /** GATEWAY_TOKEN_REFRESH_LEAD_MS: `token_expiring` goes out this long before a socket's token expires. */
  tokenRefreshLeadMs?: number;
  /** Modules exporting what the `kafka` and `dataSource` factories inject. */
  imports?: ModuleMetadata['imports'];
  /** The module creates, runs and disconnects its consumer on this client. */
  kafka: HostProvided<Kafka>;
  /** Where headSeq, epoch and catch-up history are read. */
  dataSource: HostProvided<DataSource>;
  /** Paging, acks/redelivery, backpressure and the room cache. */
  subscriptions?: SubscriptionOptions;
  /**
   * Partition count of the events topic: given, the consumer fetches only partitions of rooms
   * with subscribers here (PartitionInterest); absent, it fetches every partition.
   */
  partitions?: number;
  /** Graceful drain on shutdown (GATEWAY_DRAIN_SPREAD_MS, GATEWAY_DRAIN_TIMEOUT_MS). */
  drain?: Partial<DrainOptions>;
  /** Connections per principal/address, subscriptions and churn per socket; omitted: none. */
  limits?: GatewayLimitOptions;
  /** Serve GET /v1/rooms/:roomId/events (server-sent events) with these settings; absent: not served. */
  sse?: SseOptions;
  /** Presence in PostgreSQL (GATEWAY_PRESENCE_*); absent: subscribe `presence` and `presence` requests are refused. */
  presence?: PresenceOptions;
  /**
   * Accept `publish` on sockets (./socket-publish.ts), written to this messages topic; absent:
   * `publish` is answered `unavailable` (clients use HTTP).
   */
  publish?: SocketPublishOptions;
}

/**
 * Live delivery over Socket.IO: the DeliveryGateway, the subscriptions behind it, the events
 * consumer feeding them and the drain on shutdown. Exports EventsConsumerService and
 * DrainService (for readiness) and SubscriptionService. Pair with EdgeIoAdapter on the application.
 */
@Module({})
export class DeliveryModule {
  static register(options: DeliveryModuleOptions): DynamicModule {
    const consumerOptions: EventsConsumerOptions = {
      eventsTopic: options.eventsTopic,
      groupId: options.groupId,
      timeouts: options.consumerTimeouts,
    };
    return {
      module: DeliveryModule,
      imports: options.imports ?? [],
      providers: [
        { provide: KAFKA_CLIENT, inject: options.kafka.inject ?? [], useFactory: asFactory(options.kafka.useFactory) },
        {
          provide: MESSAGE_HISTORY,
          inject: options.dataSource.inject ?? [],
          useFactory: async (...deps: unknown[]) =>
            new MessageHistoryRepository(await asFactory(options.dataSource.useFactory)(...deps)),
        },
        { provide: TOKEN_VERIFIER, useValue: tokenVerifierFor(options) },
        { provide: TOKEN_LIFETIME_OPTIONS, useValue: { leadMs: options.tokenRefreshLeadMs ?? 60_000 } },
        { provide: SUBSCRIPTION_OPTIONS, useValue: options.subscriptions ?? {} },
        { provide: EVENTS_CONSUMER_OPTIONS, useValue: consumerOptions },
        { provide: DRAIN_OPTIONS, useValue: options.drain ?? {} },
        ...(options.partitions === undefined
          ? []
          : [
              {
                provide: PARTITION_INTEREST,
                inject: [KAFKA_CLIENT],
                useFactory: (kafka: Kafka) =>
                  new PartitionInterest({ topic: options.eventsTopic, partitions: options.partitions as number }, kafka),
              },
            ]),
        { provide: GATEWAY_LIMITS, useValue: options.limits ?? NO_LIMITS },
        SubscriptionService,
        EventsConsumerService,
        GroupCleanupService,
        DrainService,
        DeliveryGateway,
        ...(options.sse ? [{ provide: SSE_OPTIONS, useValue: options.sse }, SseStreams] : []),
        ...(options.presence
          ? [
              {
                provide: PresenceService,
                inject: options.dataSource.inject ?? [],
                useFactory: async (...deps: unknown[]) =>
                  new PresenceService(
                    new PresenceStore(await asFactory(options.dataSource.useFactory)(...deps)),
                    options.presence as PresenceOptions,
                  ),
              },
            ]
          : []),
        ...(options.publish ? [socketPublisherProvider(options, options.publish)] : []),
      ],
      controllers: options.sse ? [SseController] : [],
      exports: [EventsConsumerService, SubscriptionService, DrainService],
    };
  }
}

function socketPublisherProvider(options: DeliveryModuleOptions, publish: SocketPublishOptions) {
  return {
    provide: SocketPublisher,
    inject: [KAFKA_CLIENT, ...(options.dataSource.inject ?? [])],
    useFactory: async (kafka: Kafka, ...deps: unknown[]) =>
      new SocketPublisher(
        // The same producer settings as ingest-api's: the room -> partition mapping must agree.
        new RoomProducer(kafka, { partitions: publish.partitions }),
        publish,
        new MessageHistoryRepository(await asFactory(options.dataSource.useFactory)(...deps)),
        // An idle Redis connection only when the limit is on and shared.
        new RateLimitStore(publish.rateLimit.messagesPerSecond > 0 ? publish.rateLimit.redisUrl : undefined),
      ),
  };
}

function tokenVerifierFor(options: DeliveryModuleOptions): TokenVerifier {
  if (options.auth) return new TokenVerifier(options.auth);
  if (options.jwtSecret) return TokenVerifier.withSecret(options.jwtSecret);
  throw new Error('DeliveryModule needs `auth` or `jwtSecret`');
}

function asFactory<T>(factory: (...deps: never[]) => T): (...deps: unknown[]) => T {
  return factory as (...deps: unknown[]) => T;
}
