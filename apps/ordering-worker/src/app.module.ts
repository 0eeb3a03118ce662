import {
  type DynamicModule,
  Inject,
  Logger,
  Module,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { type Admin, type Kafka, probeKafka } from '@seqcast/kafka';
import { HealthModule, MetricsModule } from '@seqcast/observability';
import { OrderingWorkerModule, OrderingWorkerService } from '@seqcast/ordering-sequencer';
import { type DataSource, probeDatabase } from '@seqcast/persistence';
import type { WorkerConfig } from './config';

/** The `service` label on every metric series. */
export const SERVICE = 'ordering-worker';

const KAFKA = Symbol('KAFKA');
const KAFKA_ADMIN = Symbol('KAFKA_ADMIN');
const DATA_SOURCE = Symbol('DATA_SOURCE');

/** Opened by main before Nest starts (so start-up failures are reported plainly); closed here. */
export interface WorkerResources {
  kafka: Kafka;
  dataSource: DataSource;
}

/** Shares the process-wide Kafka client and DataSource, and closes what it owns on shutdown. */
@Module({})
class WorkerResourcesModule implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('WorkerResources');

  constructor(
    @Inject(KAFKA_ADMIN) private readonly admin: Admin,
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
  ) {}

  static forResources(resources: WorkerResources): DynamicModule {
    return {
      module: WorkerResourcesModule,
      providers: [
        { provide: KAFKA, useValue: resources.kafka },
        { provide: KAFKA_ADMIN, useFactory: () => resources.kafka.admin() },
        { provide: DATA_SOURCE, useValue: resources.dataSource },
      ],
      exports: [KAFKA, KAFKA_ADMIN, DATA_SOURCE],
    };
  }

  async onModuleInit(): Promise<void> {
    // Readiness uses the admin client; a broker blip at start-up shows there, not as a crash.
    await this.admin.connect().catch((error: unknown) => {
      this.logger.warn(
        `Kafka admin client not connected yet: ${error instanceof Error ? error.message : String(error)}`,
      );
    });
  }

  // Runs after the worker left its group (beforeApplicationShutdown), so nothing is mid-batch.
  async onApplicationShutdown(): Promise<void> {
    await this.admin.disconnect();
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

@Module({})
export class AppModule {
  static forRoot(config: WorkerConfig, resources: WorkerResources): DynamicModule {
    const shared = WorkerResourcesModule.forResources(resources);
    const ordering = OrderingWorkerModule.register({
      imports: [shared],
      settings: {
        messagesTopic: config.kafka.messagesTopic,
        eventsTopic: config.kafka.eventsTopic,
        partitions: config.kafka.partitions,
        groupId: config.worker.groupId,
        partitionsConsumedConcurrently: config.worker.partitionsConcurrency,
        historyRetentionHours: config.worker.historyRetentionHours,
      },
      kafka: { inject: [KAFKA], useFactory: (kafka: Kafka) => kafka },
      dataSource: { inject: [DATA_SOURCE], useFactory: (dataSource: DataSource) => dataSource },
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
            { name: 'kafka', check: () => probeKafka(admin, [config.kafka.messagesTopic, config.kafka.eventsTopic]) },
            { name: 'database', check: () => probeDatabase(dataSource) },
            { name: 'consumer', check: async () => worker.assertConsuming() },
          ],
        }),
      ],
    };
  }
}
