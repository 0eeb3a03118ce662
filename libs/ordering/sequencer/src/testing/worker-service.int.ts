/**
 * The ordering worker composed as apps/ordering-worker composes it (worker module with retention,
 * probes with the Kafka, database and consumer checks, /metrics, the same Nest options), started
 * in-process with its HTTP server on an ephemeral loopback port.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { type DynamicModule, type INestApplication, type LoggerService, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type Admin, createKafka, ensureTopics, type Kafka, probeKafka, RoomProducer } from '@seqcast/kafka';
import { HealthModule, MetricsModule, startManagementServer } from '@seqcast/observability';
import { type DataSource, openDatabase, probeDatabase } from '@seqcast/persistence';
import {
  createTestDatabase,
  type TestDatabase,
  testKafkaBrokers,
  testKafkaClient,
  uniqueTopics,
} from '@seqcast/testing';
import type { Producer } from 'kafkajs';
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
  /** The management listener: /healthz, /readyz, /metrics (as MANAGEMENT_PORT in the app). */
  managementUrl: string;
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
  const management = await startManagementServer(app, { host: '127.0.0.1', port: 0 });
  let closing: Promise<void> | undefined;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    managementUrl: management.url,
    app,
    worker: app.get(OrderingWorkerService),
    retention: app.get(HistoryRetentionService),
    close: () =>
      (closing ??= (async () => {
        await app.close();
        await management.close();
        await admin.disconnect().catch(() => undefined);
      })()),
  };
}

export async function scrape(service: RunningWorkerService): Promise<string> {
  return (await fetch(`${service.managementUrl}/metrics`)).text();
}

/** What each worker integration test starts from: its own database, topics and consumer group. */
export interface WorkerFixture {
  db: TestDatabase;
  dataSource: DataSource;
  kafka: Kafka;
  topics: { messagesTopic: string; eventsTopic: string };
  groupId: string;
  /** Publishes valid records the way ingest-api does (partition by room). */
  producer: RoomProducer;
  /** Publishes anything, anywhere (poison records, wrong partitions). */
  rawProducer: Producer;
  /** Disconnects the producers, deletes the topics and group, drops the database. */
  close(): Promise<void>;
}

export async function openWorkerFixture(name: string, partitions: number): Promise<WorkerFixture> {
  const db = await createTestDatabase();
  const dataSource = await openDatabase({ url: db.url, runMigrations: true });
  const kafka = createKafka({ brokers: testKafkaBrokers(), clientId: `${name}-int`, client: testKafkaClient() });
  const topics = uniqueTopics(name);
  const groupId = `${name}-${randomBytes(4).toString('hex')}`;
  await ensureTopics(kafka, [
    { name: topics.messagesTopic, partitions },
    { name: topics.eventsTopic, partitions },
  ]);
  const producer = new RoomProducer(kafka, { partitions });
  await producer.connect();
  const rawProducer = kafka.producer({ allowAutoTopicCreation: false });
  await rawProducer.connect();
  return {
    db,
    dataSource,
    kafka,
    topics,
    groupId,
    producer,
    rawProducer,
    close: async () => {
      await producer.disconnect();
      await rawProducer.disconnect();
      const admin = kafka.admin();
      await admin.connect();
      await admin.deleteTopics({ topics: [topics.messagesTopic, topics.eventsTopic] }).catch(() => undefined);
      await admin.deleteGroups([groupId]).catch(() => undefined);
      await admin.disconnect();
      await dataSource.destroy();
      await db.drop();
    },
  };
}
