/**
 * edge-gateway entry point. The events topic must exist with the agreed partition count and the
 * schema must be migrated before the first socket connects. Until both are, the port answers probes
 * (readiness 503 with the reason) and Kafka and PostgreSQL are retried with backoff; only a
 * configuration error (e.g. a partition-count mismatch) is reported as one line and exit code 1.
 *
 * SIGTERM/SIGINT: readiness 503 and new handshakes refused (`server_draining`) at once; every
 * socket is told `server_restart { reconnectInMs }` and served on until then, then disconnected
 * (DrainService); once they are gone (or GATEWAY_DRAIN_TIMEOUT_MS passed) the events consumer
 * leaves its group and the process exits 0. The drain timeout + SHUTDOWN_MARGIN_MS, or a second
 * signal, force exit 1, which loses nothing: clients resume from their cursors elsewhere.
 */
import { NestFactory } from '@nestjs/core';
import { loadConfigOrExit } from '@seqcast/config';
import { EdgeIoAdapter } from '@seqcast/gateway-delivery';
import { createLogger, installShutdownDeadline, startManagementServer } from '@seqcast/observability';
import { openPlatformResources, serveStartupProbes } from '@seqcast/service-runtime';
import { AppModule, SERVICE } from './app.module';
import { loadGatewayConfig } from './config';
import { listenTarget } from './listen';

async function bootstrap(): Promise<void> {
  const config = loadConfigOrExit(SERVICE, () => loadGatewayConfig());
  const logger = createLogger(SERVICE, config.logLevel);
  try {
    // Probes answer (readiness 503 with the reason) while Kafka and PostgreSQL are waited for. With
    // reusePort every listener may bind beside a copy of this gateway that is still draining.
    const target = listenTarget(config.port, config.host);
    const probes = await serveStartupProbes({
      host: config.host,
      port: config.port,
      managementPort: config.managementPort,
      reusePort: target.reusePort,
    });
    const resources = await openPlatformResources({
      logger,
      onWaiting: probes.waitingFor,
      kafka: config.kafka,
      topics: [{ name: config.kafka.eventsTopic, partitions: config.kafka.partitions, replicationFactor: config.kafka.replicationFactor, minInsyncReplicas: config.kafka.minInsyncReplicas }],
      database: config.database,
    });

    const app = await NestFactory.create(AppModule.forRoot(config, resources), {
      logger,
      abortOnError: false,
      // Long-lived sockets and keep-alive connections must not hold a rolling restart hostage.
      forceCloseConnections: true,
    });
    app.useWebSocketAdapter(new EdgeIoAdapter(app, config.socket));
    // process.exit(0) once the hooks ran: the drain is complete, nothing is left to wait for.
    app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
    installShutdownDeadline({ timeoutMs: config.shutdownTimeoutMs, logger });
    await probes.close();
    // Nest hands this straight to http.Server#listen, which takes an options object.
    await app.listen(target as unknown as number);
    logger.log(
      `listening on http://${config.host}:${config.port} (instance ${config.instanceId}` +
        `${target.reusePort ? ', reusePort' : ''})`,
      'Bootstrap',
    );
    // Probes and metrics on their own port; it stays up through the drain (readiness answers 503).
    await startManagementServer(app, { host: config.host, port: config.managementPort, reusePort: target.reusePort });
    logger.log(
      `management (/healthz, /readyz, /metrics) on http://${config.host}:${config.managementPort}`,
      'Bootstrap',
    );
  } catch (error) {
    logger.error(`cannot start: ${error instanceof Error ? error.message : String(error)}`, 'Bootstrap');
    process.exit(1);
  }
}

void bootstrap();
