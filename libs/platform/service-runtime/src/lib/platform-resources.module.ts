import {
  type DynamicModule,
  type FactoryProvider,
  Inject,
  Logger,
  Module,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { type Admin, type Kafka, probeKafka } from '@seqcast/kafka';
import type { ReadinessCheck } from '@seqcast/observability';
import { type DataSource, probeDatabase } from '@seqcast/persistence';
import type { PlatformResources } from './platform-resources';

export const KAFKA = Symbol('KAFKA');
export const KAFKA_ADMIN = Symbol('KAFKA_ADMIN');
export const DATA_SOURCE = Symbol('DATA_SOURCE');

/** Hands the shared Kafka client to a feature module's `kafka` option. */
export const kafkaFromPlatform = { inject: [KAFKA], useFactory: (kafka: Kafka) => kafka } satisfies Pick<
  FactoryProvider,
  'inject' | 'useFactory'
>;
/** Hands the shared DataSource to a feature module's `dataSource` option. */
export const dataSourceFromPlatform = {
  inject: [DATA_SOURCE],
  useFactory: (dataSource: DataSource) => dataSource,
} satisfies Pick<FactoryProvider, 'inject' | 'useFactory'>;

/** Readiness of the shared dependencies: the broker with the service's topics, and PostgreSQL. */
export function platformReadinessChecks(admin: Admin, dataSource: DataSource, topics: string[]): ReadinessCheck[] {
  return [
    { name: 'kafka', check: () => probeKafka(admin, topics) },
    { name: 'database', check: () => probeDatabase(dataSource) },
  ];
}

/**
 * Shares the resources main opened (so start-up failures are reported before Nest starts) and
 * closes them last, in onApplicationShutdown: after the features drained in
 * beforeApplicationShutdown, nothing is mid-request or mid-batch any more.
 */
@Module({})
export class PlatformResourcesModule implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('PlatformResources');

  constructor(
    @Inject(KAFKA_ADMIN) private readonly admin: Admin,
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
  ) {}

  static forResources(resources: PlatformResources): DynamicModule {
    return {
      module: PlatformResourcesModule,
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
