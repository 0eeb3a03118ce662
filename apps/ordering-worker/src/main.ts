/**
 * ordering-worker entry point. Both topics must exist with the agreed partition count and the
 * schema must be migrated before the worker joins its consumer group. Until both are, the port
 * answers probes (readiness 503 with the reason) and Kafka and PostgreSQL are retried with backoff;
 * only a configuration error is reported as one line and exit code 1. The HTTP server only serves
 * /healthz, /readyz and /metrics.
 *
 * SIGTERM/SIGINT: readiness 503 at once, the batches in flight commit and publish their events,
 * the consumer leaves its group (the others rebalance at once), exit 0. WORKER_SHUTDOWN_TIMEOUT_MS
 * or a second signal force exit 1, which corrupts nothing: a batch transaction commits whole or
 * rolls back, and the next owner resumes from the stored position (republishing via the outbox).
 */
import { NestFactory } from '@nestjs/core';
import { loadConfigOrExit } from '@seqcast/config';
import { createLogger, installShutdownDeadline, startManagementServer } from '@seqcast/observability';
import { openPlatformResources, serveStartupProbes } from '@seqcast/service-runtime';
import { AppModule, SERVICE } from './app.module';
import { loadWorkerConfig } from './config';

async function bootstrap(): Promise<void> {
  const config = loadConfigOrExit(SERVICE, () => loadWorkerConfig());
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
      topics: [
        { name: config.kafka.messagesTopic, partitions: config.kafka.partitions, replicationFactor: config.kafka.replicationFactor, minInsyncReplicas: config.kafka.minInsyncReplicas },
        { name: config.kafka.eventsTopic, partitions: config.kafka.partitions, replicationFactor: config.kafka.replicationFactor, minInsyncReplicas: config.kafka.minInsyncReplicas },
      ],
      database: config.database,
    });

    const app = await NestFactory.create(AppModule.forRoot(config, resources), {
      logger,
      abortOnError: false,
      forceCloseConnections: true,
    });
    // process.exit(0) once the hooks ran: the worker has left its group, nothing is left to wait for.
    app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
    installShutdownDeadline({ timeoutMs: config.worker.shutdownTimeoutMs, logger });
    await probes.close();
    await app.listen(config.port, config.host);
    // Probes and metrics on their own port; it stays up through the drain (readiness answers 503).
    await startManagementServer(app, { host: config.host, port: config.managementPort });
    logger.log(
      `management (/healthz, /readyz, /metrics) on http://${config.host}:${config.managementPort}`,
      'Bootstrap',
    );
    logger.log(`health on http://${config.host}:${config.port}/healthz and /readyz`, 'Bootstrap');
  } catch (error) {
    logger.error(`cannot start: ${error instanceof Error ? error.message : String(error)}`, 'Bootstrap');
    process.exit(1);
  }
}

void bootstrap();
