/**
 * The one start-up sequence every Seqcast service runs; an app's main.ts only says what is its own.
 *
 *   config (a bad variable: one line, exit 1) → JSON logger → startup probes on the public and
 *   management ports (readiness 503 naming what is awaited) → platform resources (Kafka topics with
 *   the agreed partition count, PostgreSQL and its schema; retried with backoff) → Nest app →
 *   signals held + forced-exit deadline → listen → management server (/healthz, /readyz, /metrics)
 *   → shutdown hooks (a signal held during start-up shuts the app down now).
 *
 * SIGTERM/SIGINT: Nest's shutdown hooks drain (readiness 503 first, HealthModule), then exit 0;
 * the service's deadline or a second signal force exit 1 (installShutdownDeadline). Any start-up
 * failure after the config (a topic with the wrong partition count, bad PostgreSQL credentials)
 * is logged as one line and exits 1 too.
 */
import type { DynamicModule, INestApplication, NestApplicationOptions } from '@nestjs/common';
import { type AbstractHttpAdapter, NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { loadConfigOrExit } from '@seqcast/config';
import type { KafkaSettings } from '@seqcast/kafka';
import { createLogger, installShutdownDeadline, startManagementServer } from '@seqcast/observability';
import { openPlatformResources, type PlatformResources } from './platform-resources';
import { holdSignalsDuringStartUp } from './start-up-signal-hold';
import { serveStartupProbes } from './startup-probes';

/** What bootstrapService reads from every service's config (each app's config has more). */
export interface ServiceRuntimeConfig {
  logLevel: string;
  host: string;
  port: number;
  /** /healthz, /readyz and /metrics, apart from the public port. */
  managementPort: number;
  /** The whole connection settings (brokers, client id, TLS/SASL...) go to the Kafka client. */
  kafka: KafkaSettings & { partitions: number; replicationFactor: number; minInsyncReplicas: number };
  database: { url: string; runMigrations: boolean };
}

/**
 * `App` is the Nest application type the service's `configure`/`listen` receive: Express (Nest's
 * default) unless the service passes an `httpAdapter` (ingest-api: Fastify; the gateway stays on
 * Express, its Socket.IO server is attached to Express's HTTP server).
 */
export interface ServiceBootstrap<C extends ServiceRuntimeConfig, App extends INestApplication = NestExpressApplication> {
  /** The `service` label on logs and metric series. */
  name: string;
  /** Parses and validates the environment; a ConfigValidationError becomes one line and exit 1. */
  loadConfig: () => C;
  /** Topics the service needs before it starts: created with config.kafka's partition count if missing. */
  topics: (config: C) => string[];
  /** The Nest root module, built from the config and the opened Kafka client and DataSource. */
  appModule: (config: C, resources: PlatformResources) => DynamicModule;
  /** After SIGTERM, the ms until the process is forced to exit (a second signal forces it at once). */
  shutdownTimeoutMs: (config: C) => number;
  /**
   * The HTTP platform, made fresh for the app (e.g. `() => new FastifyAdapter({...})`); without it
   * Nest's default, Express. Its `App` type must match.
   */
  httpAdapter?: () => AbstractHttpAdapter;
  /** Extra NestFactory options (e.g. `bodyParser: false` where the service installs its own). */
  nestOptions?: Pick<NestApplicationOptions, 'bodyParser' | 'cors' | 'rawBody'>;
  /** Before listening: HTTP middleware, a WebSocket adapter... */
  configure?: (app: App, config: C) => void;
  /**
   * SO_REUSEPORT on the startup probes and the management server, for a service that may start
   * beside a draining copy of itself on one host (pair it with a `listen` that sets it too).
   */
  reusePort?: boolean;
  /** Binds the public port; default `app.listen(config.port, config.host)`. */
  listen?: (app: App, config: C) => Promise<unknown>;
  /** Appended to the "listening on" log line (e.g. the instance id). */
  describe?: (config: C) => string;
}

export async function bootstrapService<
  C extends ServiceRuntimeConfig,
  App extends INestApplication = NestExpressApplication,
>(service: ServiceBootstrap<C, App>): Promise<void> {
  const config = loadConfigOrExit(service.name, service.loadConfig);
  const logger = createLogger(service.name, config.logLevel);
  try {
    // Probes answer (readiness 503 with the reason) while Kafka and PostgreSQL are waited for.
    const probes = await serveStartupProbes({
      host: config.host,
      port: config.port,
      managementPort: config.managementPort,
      reusePort: service.reusePort,
    });
    const { partitions, replicationFactor, minInsyncReplicas } = config.kafka;
    const resources = await openPlatformResources({
      logger,
      onWaiting: probes.waitingFor,
      kafka: config.kafka,
      topics: service.topics(config).map((name) => ({ name, partitions, replicationFactor, minInsyncReplicas })),
      database: config.database,
    });

    const module = service.appModule(config, resources);
    const options: NestApplicationOptions = {
      ...service.nestOptions,
      logger,
      abortOnError: false,
      // Keep-alive connections and long-lived sockets must not hold a rolling restart hostage
      // (Express; a Fastify adapter takes Fastify's own `forceCloseConnections`).
      forceCloseConnections: true,
    };
    const app = service.httpAdapter
      ? await NestFactory.create<App>(module, service.httpAdapter(), options)
      : await NestFactory.create<App>(module, options);
    service.configure?.(app, config);
    // A signal from here on waits for the app to finish initialising (see start-up-signal-hold.ts);
    // the deadline counts from it either way.
    const hold = holdSignalsDuringStartUp({ logger });
    installShutdownDeadline({ timeoutMs: service.shutdownTimeoutMs(config), logger });
    await probes.close();
    await (service.listen ? service.listen(app, config) : app.listen(config.port, config.host));
    const details = service.describe?.(config);
    logger.log(`listening on http://${config.host}:${config.port}${details ? ` (${details})` : ''}`, 'Bootstrap');
    // Probes and metrics on their own port; it stays up through the drain (readiness answers 503).
    await startManagementServer(app, { host: config.host, port: config.managementPort, reusePort: service.reusePort });
    logger.log(
      `management (/healthz, /readyz, /metrics) on http://${config.host}:${config.managementPort}`,
      'Bootstrap',
    );
    // process.exit(0) once the hooks ran: the drain is complete, nothing is left to wait for.
    app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
    const held = hold.release();
    if (held) {
      // The same hooks a signal now would run (none of ours reads the signal), then the same exit.
      await app.close();
      process.exit(0);
    }
  } catch (error) {
    logger.error(`cannot start: ${error instanceof Error ? error.message : String(error)}`, 'Bootstrap');
    process.exit(1);
  }
}
