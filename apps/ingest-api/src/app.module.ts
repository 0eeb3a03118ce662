import {
  type DynamicModule,
  Inject,
  Logger,
  Module,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { IngestPublishModule } from '@seqcast/ingest-publish';
import { type Admin, type Kafka, probeKafka } from '@seqcast/kafka';
import { HealthModule, MetricsModule } from '@seqcast/observability';
import { type DataSource, probeDatabase } from '@seqcast/persistence';
import type { IngestConfig } from './config';

/** The `service` label on every metric series. */
export const SERVICE = 'ingest-api';

const KAFKA = Symbol('KAFKA');
const KAFKA_ADMIN = Symbol('KAFKA_ADMIN');
const DATA_SOURCE = Symbol('DATA_SOURCE');

/** Opened by main before Nest starts (so start-up failures are reported plainly); closed here. */
export interface IngestResources {
  kafka: Kafka;
  dataSource: DataSource;
}

/** Shares the process-wide Kafka client and DataSource, and closes what it owns on shutdown. */
@Module({})
class IngestResourcesModule implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('IngestResources');

  constructor(
    @Inject(KAFKA_ADMIN) private readonly admin: Admin,
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
  ) {}

  static forResources(resources: IngestResources): DynamicModule {
    return {
      module: IngestResourcesModule,
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

  async onApplicationShutdown(): Promise<void> {
    await this.admin.disconnect();
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

@Module({})
export class AppModule {
  static forRoot(config: IngestConfig, resources: IngestResources): DynamicModule {
    const shared = IngestResourcesModule.forResources(resources);
    return {
      module: AppModule,
      imports: [
        shared,
        MetricsModule.forRoot({ service: SERVICE }),
        IngestPublishModule.register({
          messagesTopic: config.kafka.messagesTopic,
          partitions: config.kafka.partitions,
          jwtSecret: config.jwtSecret,
          imports: [shared],
          kafka: { inject: [KAFKA], useFactory: (kafka: Kafka) => kafka },
          dataSource: { inject: [DATA_SOURCE], useFactory: (dataSource: DataSource) => dataSource },
        }),
        // /readyz also turns 503 the moment shutdown begins (HealthModule), before the drain.
        HealthModule.forRoot({
          imports: [shared],
          inject: [KAFKA_ADMIN, DATA_SOURCE],
          useFactory: (admin: Admin, dataSource: DataSource) => [
            { name: 'kafka', check: () => probeKafka(admin, [config.kafka.messagesTopic]) },
            { name: 'database', check: () => probeDatabase(dataSource) },
          ],
        }),
      ],
    };
  }
}
