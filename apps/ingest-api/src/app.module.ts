import { type DynamicModule, Module } from '@nestjs/common';
import { HistoryQueryModule } from '@seqcast/history-query';
import { HttpAuthModule } from '@seqcast/http-api';
import { IngestPublishModule } from '@seqcast/ingest-publish';
import type { Admin } from '@seqcast/kafka';
import { HealthModule, MetricsModule } from '@seqcast/observability';
import { ApiKeyRepository, type DataSource } from '@seqcast/persistence';
import {
  DATA_SOURCE,
  dataSourceFromPlatform,
  KAFKA_ADMIN,
  kafkaFromPlatform,
  platformReadinessChecks,
  type PlatformResources,
  PlatformResourcesModule,
} from '@seqcast/service-runtime';
import type { IngestConfig } from './config';

/** The `service` label on every metric series. */
export const SERVICE = 'ingest-api';

@Module({})
export class AppModule {
  static forRoot(config: IngestConfig, resources: PlatformResources): DynamicModule {
    const shared = PlatformResourcesModule.forResources(resources);
    // One set of credential checks (and caches) for publishing and history alike.
    const authentication = HttpAuthModule.register({
      auth: config.auth,
      apiKeyCacheTtlMs: config.apiKeyCacheTtlMs,
      imports: [shared],
      apiKeys: { inject: [DATA_SOURCE], useFactory: (dataSource: DataSource) => new ApiKeyRepository(dataSource) },
    });
    return {
      module: AppModule,
      imports: [
        shared,
        MetricsModule.forRoot({ service: SERVICE }),
        IngestPublishModule.register({
          messagesTopic: config.kafka.messagesTopic,
          partitions: config.kafka.partitions,
          authentication,
          publishRateLimit: { messagesPerSecond: config.publishRatePerSec, redisUrl: config.redisUrl },
          imports: [shared],
          kafka: kafkaFromPlatform,
          dataSource: dataSourceFromPlatform,
        }),
        HistoryQueryModule.register({
          authentication,
          imports: [shared],
          dataSource: dataSourceFromPlatform,
        }),
        // /readyz also turns 503 the moment shutdown begins (HealthModule), before the drain.
        HealthModule.forRoot({
          imports: [shared],
          inject: [KAFKA_ADMIN, DATA_SOURCE],
          useFactory: (admin: Admin, dataSource: DataSource) =>
            platformReadinessChecks(admin, dataSource, [config.kafka.messagesTopic]),
        }),
      ],
    };
  }
}
