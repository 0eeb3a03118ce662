/**
 * ingest-api: the HTTP write path. Before the first request the messages topic must exist with the
 * agreed partition count and the schema must be migrated; until then the port answers 503
 * `unavailable` with Retry-After (bootstrapService has the whole start-up and shutdown sequence).
 *
 * SIGTERM/SIGINT: readiness 503 and new requests refused at once, requests in flight answered,
 * producer flushed and disconnected, exit 0. INGEST_SHUTDOWN_TIMEOUT_MS or a second signal force
 * exit 1; nothing acknowledged is lost by that (a 202 is only sent once Kafka has the record).
 */
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { configureIngestHttp, ingestHttpAdapter } from '@seqcast/ingest-publish';
import { bootstrapService } from '@seqcast/service-runtime';
import { AppModule, SERVICE } from './app.module';
import { type IngestConfig, loadIngestConfig } from './config';

void bootstrapService<IngestConfig, NestFastifyApplication>({
  name: SERVICE,
  loadConfig: () => loadIngestConfig(),
  topics: (config) => [config.kafka.messagesTopic],
  appModule: (config, resources) => AppModule.forRoot(config, resources),
  shutdownTimeoutMs: (config) => config.shutdownTimeoutMs,
  // Nest on Fastify (docs/benchmarks.md); configureIngestHttp installs the hooks, CORS and the one
  // body parser (size limit on decoded bytes, errors in the wire's shape).
  httpAdapter: ingestHttpAdapter,
  nestOptions: { bodyParser: false },
  configure: (app, config) =>
    configureIngestHttp(app, { maxBodyBytes: config.maxBodyBytes, allowedOrigins: config.allowedOrigins }),
});
