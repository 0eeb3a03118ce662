/**
 * ingest-api entry point. Start-up order matters: the topic must exist with the agreed partition
 * count and the schema must be migrated before the first request, and either failing is reported
 * as one readable line and exit code 1, not a Nest stack trace.
 *
 * SIGTERM/SIGINT: readiness 503 and new requests refused at once, requests in flight answered,
 * producer flushed and disconnected, exit 0. INGEST_SHUTDOWN_TIMEOUT_MS or a second signal force
 * exit 1; nothing acknowledged is lost by that (a 202 is only sent once Kafka has the record).
 */
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { loadConfigOrExit } from '@seqcast/config';
import { configureIngestHttp } from '@seqcast/ingest-publish';
import { createLogger, installShutdownDeadline } from '@seqcast/observability';
import { openPlatformResources } from '@seqcast/service-runtime';
import { AppModule, SERVICE } from './app.module';
import { loadIngestConfig } from './config';

async function bootstrap(): Promise<void> {
  const config = loadConfigOrExit(SERVICE, () => loadIngestConfig());
  const logger = createLogger(SERVICE, config.logLevel);
  try {
    const resources = await openPlatformResources({
      logger,
      kafka: { brokers: config.kafka.brokers, clientId: config.kafka.clientId },
      topics: [{ name: config.kafka.messagesTopic, partitions: config.kafka.partitions, replicationFactor: config.kafka.replicationFactor }],
      database: config.database,
    });

    const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, resources), {
      bodyParser: false,
      logger,
      abortOnError: false,
      // Keep-alive connections must not hold a rolling restart hostage.
      forceCloseConnections: true,
    });
    configureIngestHttp(app, { maxBodyBytes: config.maxBodyBytes });
    // process.exit(0) once the hooks ran: the drain is complete, nothing is left to wait for.
    app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
    installShutdownDeadline({ timeoutMs: config.shutdownTimeoutMs, logger });
    await app.listen(config.port, config.host);
    logger.log(`listening on http://${config.host}:${config.port}`, 'Bootstrap');
  } catch (error) {
    logger.error(`cannot start: ${error instanceof Error ? error.message : String(error)}`, 'Bootstrap');
    process.exit(1);
  }
}

void bootstrap();
