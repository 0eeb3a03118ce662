import { type DynamicModule, Module } from '@nestjs/common';
import { DeliveryModule, DrainService, EventsConsumerService } from '@seqcast/gateway-delivery';
import type { Admin } from '@seqcast/kafka';
import { HealthModule, MetricsModule } from '@seqcast/observability';
import type { DataSource } from '@seqcast/persistence';
import {
  DATA_SOURCE,
  dataSourceFromPlatform,
  KAFKA_ADMIN,
  kafkaFromPlatform,
  platformReadinessChecks,
  type PlatformResources,
  PlatformResourcesModule,
} from '@seqcast/service-runtime';
import type { GatewayConfig } from './config';

/** The `service` label on every metric series. */
export const SERVICE = 'edge-gateway';

@Module({})
export class AppModule {
  static forRoot(config: GatewayConfig, resources: PlatformResources): DynamicModule {
    const shared = PlatformResourcesModule.forResources(resources);
    const delivery = DeliveryModule.register({
      eventsTopic: config.kafka.eventsTopic,
      groupId: config.kafka.groupId,
      consumerTimeouts: config.kafka.groupTimeouts,
      partitions: config.kafka.partitions,
      auth: config.auth,
      tokenRefreshLeadMs: config.tokenRefreshLeadMs,
      imports: [shared],
      kafka: kafkaFromPlatform,
      dataSource: dataSourceFromPlatform,
      subscriptions: {
        delivery: {
          ...config.delivery,
          // Replay keeps well inside the bound so a resuming client is never kicked for its own replay.
          replayWindowMessages: Math.min(1_000, Math.floor(config.delivery.maxBacklogMessages / 4)),
        },
        roomCache: config.roomCache,
      },
      drain: config.drain,
      limits: config.limits,
      sse: config.sse,
      presence: config.presence,
      publish: {
        messagesTopic: config.publish.messagesTopic,
        partitions: config.kafka.partitions,
        maxPayloadBytes: config.publish.maxPayloadBytes,
        rateLimit: { messagesPerSecond: config.publish.ratePerSec, redisUrl: config.publish.redisUrl },
      },
    });
    return {
      module: AppModule,
      imports: [
        shared,
        delivery,
        MetricsModule.forRoot({ service: SERVICE }),
        HealthModule.forRoot({
          imports: [shared, delivery],
          inject: [KAFKA_ADMIN, DATA_SOURCE, EventsConsumerService, DrainService],
          useFactory: (admin: Admin, dataSource: DataSource, events: EventsConsumerService, drain: DrainService) => [
            // First: from the moment shutdown starts, load balancers must send nobody here.
            { name: 'draining', check: () => drain.checkNotDraining() },
            ...platformReadinessChecks(admin, dataSource, [config.kafka.eventsTopic]),
            { name: 'events-consumer', check: () => events.checkConsuming() },
          ],
        }),
      ],
    };
  }
}
