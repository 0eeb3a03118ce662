/**
 * ordering-worker entry point. Both topics must exist with the agreed partition count and the
 * schema must be migrated before the worker joins its consumer group; either failing is reported
 * as one readable line and exit code 1. The HTTP server only serves /healthz and /readyz.
 */
import { NestFactory } from '@nestjs/core';
import { loadConfigOrExit } from '@seqcast/config';
import { createKafka, ensureTopics } from '@seqcast/kafka';
import { createLogger } from '@seqcast/observability';
import { ensureDatabase, openDatabase } from '@seqcast/persistence';
import { AppModule } from './app.module';
import { loadWorkerConfig } from './config';

const SERVICE = 'ordering-worker';

async function bootstrap(): Promise<void> {
  const config = loadConfigOrExit(SERVICE, () => loadWorkerConfig());
  const logger = createLogger(SERVICE, config.logLevel);
  try {
    const kafka = createKafka(
      { brokers: config.kafka.brokers, clientId: config.kafka.clientId },
      {
        log: (message) => logger.log(message, 'Kafka'),
        warn: (message) => logger.warn(message, 'Kafka'),
        error: (message) => logger.error(message, 'Kafka'),
      },
    );
    await ensureTopics(kafka, [
      { name: config.kafka.messagesTopic, partitions: config.kafka.partitions },
      { name: config.kafka.eventsTopic, partitions: config.kafka.partitions },
    ]);
    if (config.database.runMigrations) await ensureDatabase(config.database.url);
    const dataSource = await openDatabase({ url: config.database.url, runMigrations: config.database.runMigrations });

    const app = await NestFactory.create(AppModule.forRoot(config, { kafka, dataSource }), {
      logger,
      abortOnError: false,
      forceCloseConnections: true,
    });
    app.enableShutdownHooks();
    await app.listen(config.port, config.host);
    logger.log(`health on http://${config.host}:${config.port}/healthz and /readyz`, 'Bootstrap');
  } catch (error) {
    logger.error(`cannot start: ${error instanceof Error ? error.message : String(error)}`, 'Bootstrap');
    process.exit(1);
  }
}

void bootstrap();
