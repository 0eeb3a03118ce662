/**
 * The ordering worker composed as apps/ordering-worker composes it (worker module with retention,
 * probes with the Kafka, database and consumer checks, /metrics, the same Nest options), started
 * in-process with its HTTP server on an ephemeral loopback port.
 */
import type { AddressInfo } from 'node:net';
import { type DynamicModule, type INestApplication, type LoggerService, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type Admin, type Kafka, probeKafka } from '@seqcast/kafka';
import { HealthModule, MetricsModule } from '@seqcast/observability';
import { type DataSource, probeDatabase } from '@seqcast/persistence';
import { HistoryRetentionService } from '../lib/history-retention.service';
import { OrderingWorkerModule } from '../lib/ordering-worker.module';
import type { OrderingWorkerSettings, WorkerFaults } from '../lib/ordering-worker.options';
import { OrderingWorkerService } from '../lib/ordering-worker.service';

export interface WorkerServiceOptions {
  kafka: Kafka;
  dataSource: DataSource;
  settings: OrderingWorkerSettings;
  faults?: WorkerFaults;
  logger?: LoggerService | false;
}

export interface RunningWorkerService {
  baseUrl: string;
  app: INestApplication;
  worker: OrderingWorkerService;
  retention: HistoryRetentionService;
  /** Graceful shutdown, as SIGTERM runs it (Nest's shutdown hooks). */
  close(): Promise<void>;
}

@Module({})
class WorkerServiceModule {
  static forRoot(options: WorkerServiceOptions, admin: Admin): DynamicModule {
    const ordering = OrderingWorkerModule.register({
      settings: options.settings,
      kafka: { useFactory: () => options.kafka },
      dataSource: { useFactory: () => options.dataSource },
      faults: options.faults,
    });
    const { messagesTopic, eventsTopic } = options.settings;
    return {
      module: WorkerServiceModule,
      imports: [
        MetricsModule.forRoot({ service: 'ordering-worker' }),
        ordering,
        HealthModule.forRoot({
          imports: [ordering],
          inject: [OrderingWorkerService],
          useFactory: (worker: OrderingWorkerService) => [
            { name: 'kafka', check: () => probeKafka(admin, [messagesTopic, eventsTopic]) },
            { name: 'database', check: () => probeDatabase(options.dataSource) },
            { name: 'consumer', check: async () => worker.assertConsuming() },
          ],
        }),
      ],
    };
  }
}

export async function startWorkerService(options: WorkerServiceOptions): Promise<RunningWorkerService> {
  const admin = options.kafka.admin();
  await admin.connect().catch(() => undefined);
  const app = await NestFactory.create(WorkerServiceModule.forRoot(options, admin), {
    logger: options.logger ?? false,
    abortOnError: false,
    forceCloseConnections: true,
  });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    app,
    worker: app.get(OrderingWorkerService),
    retention: app.get(HistoryRetentionService),
    close: () =>
      (closing ??= (async () => {
        await app.close();
        await admin.disconnect().catch(() => undefined);
      })()),
  };
}

export async function scrape(service: RunningWorkerService): Promise<string> {
  return (await fetch(`${service.baseUrl}/metrics`)).text();
}
