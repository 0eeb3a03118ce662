/**
 * edge-gateway entry point. The events topic must exist with the agreed partition count and the
 * schema must be migrated before the first socket connects; either failing is reported as one
 * readable line and exit code 1, not a Nest stack trace.
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
import { createLogger, installShutdownDeadline } from '@seqcast/observability';
import { openPlatformResources } from '@seqcast/service-runtime';
import { AppModule, SERVICE } from './app.module';
import { loadGatewayConfig } from './config';
import { listenTarget } from './listen';

async function bootstrap(): Promise<void> {
  const config = loadConfigOrExit(SERVICE, () => loadGatewayConfig());
  const logger = createLogger(SERVICE, config.logLevel);
  try {
    const resources = await openPlatformResources({
      logger,
      kafka: { brokers: config.kafka.brokers, clientId: config.kafka.clientId },
      topics: [{ name: config.kafka.eventsTopic, partitions: config.kafka.partitions }],
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
    const target = listenTarget(config.port, config.host);
    // Nest hands this straight to http.Server#listen, which takes an options object.
    await app.listen(target as unknown as number);
    logger.log(
      `listening on http://${config.host}:${config.port} (instance ${config.instanceId}` +
        `${target.reusePort ? ', reusePort' : ''})`,
      'Bootstrap',
    );
  } catch (error) {
    logger.error(`cannot start: ${error instanceof Error ? error.message : String(error)}`, 'Bootstrap');
    process.exit(1);
  }
}

void bootstrap();
