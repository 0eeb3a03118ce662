import {
  type DynamicModule,
  Inject,
  Logger,
  Module,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { DeliveryModule, DrainService, EventsConsumerService } from '@seqcast/gateway-delivery';
import { type Admin, type Kafka, probeKafka } from '@seqcast/kafka';
import { HealthModule, MetricsModule } from '@seqcast/observability';
import { type DataSource, probeDatabase } from '@seqcast/persistence';
import type { GatewayConfig } from './config';

const KAFKA = Symbol('KAFKA');
const KAFKA_ADMIN = Symbol('KAFKA_ADMIN');
const DATA_SOURCE = Symbol('DATA_SOURCE');

/** Opened by main before Nest starts (so start-up failures are reported plainly); closed here. */
export interface GatewayResources {
  kafka: Kafka;
  dataSource: DataSource;
}

/** Shares the process-wide Kafka client and DataSource, and closes what it owns on shutdown. */
@Module({})
class GatewayResourcesModule implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('GatewayResources');

  constructor(
    @Inject(KAFKA_ADMIN) private readonly admin: Admin,
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
  ) {}

  static forResources(resources: GatewayResources): DynamicModule {
    return {
      module: GatewayResourcesModule,
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
  static forRoot(config: GatewayConfig, resources: GatewayResources): DynamicModule {
    const shared = GatewayResourcesModule.forResources(resources);
    const delivery = DeliveryModule.register({
      eventsTopic: config.kafka.eventsTopic,
      groupId: config.kafka.groupId,
      jwtSecret: config.jwtSecret,
      imports: [shared],
      kafka: { inject: [KAFKA], useFactory: (kafka: Kafka) => kafka },
      dataSource: { inject: [DATA_SOURCE], useFactory: (dataSource: DataSource) => dataSource },
      subscriptions: {
        delivery: {
          ...config.delivery,
          // Replay keeps well inside the bound so a resuming client is never kicked for its own replay.
          replayWindowMessages: Math.min(1_000, Math.floor(config.delivery.maxBacklogMessages / 4)),
        },
        roomCache: config.roomCache,
      },
      drain: config.drain,
    });
    return {
      module: AppModule,
      imports: [
        shared,
        delivery,
        MetricsModule.forRoot({ service: 'edge-gateway' }),
        HealthModule.forRoot({
          imports: [shared, delivery],
          inject: [KAFKA_ADMIN, DATA_SOURCE, EventsConsumerService, DrainService],
          useFactory: (admin: Admin, dataSource: DataSource, events: EventsConsumerService, drain: DrainService) => [
            // First: from the moment shutdown starts, load balancers must send nobody here.
            { name: 'draining', check: () => drain.checkNotDraining() },
            { name: 'kafka', check: () => probeKafka(admin, [config.kafka.eventsTopic]) },
            { name: 'database', check: () => probeDatabase(dataSource) },
            { name: 'events-consumer', check: () => events.checkConsuming() },
          ],
        }),
      ],
    };
  }
}
