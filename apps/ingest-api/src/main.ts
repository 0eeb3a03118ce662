/**
 * ingest-api entry point. Start-up order matters: the topic must exist with the agreed partition
 * count and the schema must be migrated before the first request. Until both are, the port answers
 * 503 `unavailable` with Retry-After (readiness names what is awaited) and Kafka and PostgreSQL are
 * retried with backoff; only a configuration error is reported as one line and exit code 1.
 *
 * SIGTERM/SIGINT: readiness 503 and new requests refused at once, requests in flight answered,
 * producer flushed and disconnected, exit 0. INGEST_SHUTDOWN_TIMEOUT_MS or a second signal force
 * exit 1; nothing acknowledged is lost by that (a 202 is only sent once Kafka has the record).
 */
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { loadConfigOrExit } from '@seqcast/config';
import { configureIngestHttp } from '@seqcast/ingest-publish';
import { createLogger, installShutdownDeadline, startManagementServer } from '@seqcast/observability';
import { openPlatformResources, serveStartupProbes } from '@seqcast/service-runtime';
import { AppModule, SERVICE } from './app.module';
import { loadIngestConfig } from './config';

async function bootstrap(): Promise<void> {
  const config = loadConfigOrExit(SERVICE, () => loadIngestConfig());
  const logger = createLogger(SERVICE, config.logLevel);
  try {
    // Probes answer (readiness 503 with the reason) while Kafka and PostgreSQL are waited for.
    const probes = await serveStartupProbes({
      host: config.host,
      port: config.port,
      managementPort: config.managementPort,
    });
    const resources = await openPlatformResources({
      logger,
      onWaiting: probes.waitingFor,
      kafka: config.kafka,
      topics: [{ name: config.kafka.messagesTopic, partitions: config.kafka.partitions, replicationFactor: config.kafka.replicationFactor, minInsyncReplicas: config.kafka.minInsyncReplicas }],
      database: config.database,
    });

    const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, resources), {
      bodyParser: false,
      logger,
      abortOnError: false,
      // Keep-alive connections must not hold a rolling restart hostage.
      forceCloseConnections: true,
    });
    configureIngestHttp(app, { maxBodyBytes: config.maxBodyBytes, allowedOrigins: config.allowedOrigins });
    // process.exit(0) once the hooks ran: the drain is complete, nothing is left to wait for.
    app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
    installShutdownDeadline({ timeoutMs: config.shutdownTimeoutMs, logger });
    await probes.close();
    await app.listen(config.port, config.host);
    // Probes and metrics on their own port; it stays up through the drain (readiness answers 503).
    await startManagementServer(app, { host: config.host, port: config.managementPort });
    logger.log(
      `management (/healthz, /readyz, /metrics) on http://${config.host}:${config.managementPort}`,
      'Bootstrap',
    );
    logger.log(`listening on http://${config.host}:${config.port}`, 'Bootstrap');
  } catch (error) {
    logger.error(`cannot start: ${error instanceof Error ? error.message : String(error)}`, 'Bootstrap');
    process.exit(1);
  }
}

void bootstrap();
