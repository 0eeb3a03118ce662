import { type DynamicModule, Module } from '@nestjs/common';
import type { Admin } from '@seqcast/kafka';
import { HealthModule, MetricsModule } from '@seqcast/observability';
import { OrderingWorkerModule, OrderingWorkerService } from '@seqcast/ordering-sequencer';
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
import type { WorkerConfig } from './config';

/** The `service` label on every metric series. */
export const SERVICE = 'ordering-worker';

@Module({})
export class AppModule {
  static forRoot(config: WorkerConfig, resources: PlatformResources): DynamicModule {
    const shared = PlatformResourcesModule.forResources(resources);
    const ordering = OrderingWorkerModule.register({
      imports: [shared],
      settings: {
        messagesTopic: config.kafka.messagesTopic,
        eventsTopic: config.kafka.eventsTopic,
        partitions: config.kafka.partitions,
        groupId: config.worker.groupId,
        partitionsConsumedConcurrently: config.worker.partitionsConcurrency,
        historyRetentionHours: config.worker.historyRetentionHours,
        sessionTimeoutMs: config.worker.groupTimeouts.sessionTimeoutMs,
        heartbeatIntervalMs: config.worker.groupTimeouts.heartbeatIntervalMs,
        rebalanceTimeoutMs: config.worker.groupTimeouts.rebalanceTimeoutMs,
      },
      kafka: kafkaFromPlatform,
      dataSource: dataSourceFromPlatform,
    });
    return {
      module: AppModule,
      imports: [
        shared,
        MetricsModule.forRoot({ service: SERVICE }),
        ordering,
        // /readyz also turns 503 the moment shutdown begins (HealthModule), before the drain.
        HealthModule.forRoot({
          imports: [shared, ordering],
          inject: [KAFKA_ADMIN, DATA_SOURCE, OrderingWorkerService],
          useFactory: (admin: Admin, dataSource: DataSource, worker: OrderingWorkerService) => [
            ...platformReadinessChecks(admin, dataSource, [config.kafka.messagesTopic, config.kafka.eventsTopic]),
            { name: 'consumer', check: async () => worker.assertConsuming() },
          ],
        }),
      ],
    };
  }
}
