/**
 * The ingest API composed as apps/ingest-api composes it (publish and history modules, probes with the Kafka and
 * database checks, /metrics, the same HTTP setup and Nest options), started in-process on an
 * ephemeral loopback port, so integration tests exercise the service's drain, readiness, metrics
 * and logs without a build.
 */
import type { AddressInfo } from 'node:net';
import { type DynamicModule, type LoggerService, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { type Admin, type Kafka, probeKafka } from '@seqcast/kafka';
import { HealthModule, MetricsModule, startManagementServer } from '@seqcast/observability';
import { ApiKeyRepository, type DataSource, probeDatabase } from '@seqcast/persistence';
import { signToken } from '@seqcast/auth';
import { HistoryQueryModule } from '@seqcast/history-query';
import { HttpAuthModule } from '@seqcast/http-api';
import { TEST_JWT_SECRET } from '@seqcast/testing';
import { configureIngestHttp, ingestHttpAdapter } from '../lib/configure-ingest-http';
import { IngestDrain } from '../lib/ingest-drain.service';
import { IngestPublishModule } from '../lib/ingest-publish.module';

export interface IngestServiceOptions {
  kafka: Kafka;
  dataSource: DataSource;
  messagesTopic: string;
  partitions: number;
  /** Defaults to no logging. */
  logger?: LoggerService | false;
  maxBodyBytes?: number;
  /** SEQCAST_API_KEY_CACHE_TTL_MS; the module's default when omitted. */
  apiKeyCacheTtlMs?: number;
  /** Messages per second per principal; default: no limit. */
  publishRatePerSec?: number;
  /** Share the publish budget through this Redis. */
  redisUrl?: string;
  /** SEQCAST_ALLOWED_ORIGINS as resolved; default any. */
  allowedOrigins?: string[];
}

export interface RunningIngestService {
  baseUrl: string;
  /** The management listener: /healthz, /readyz, /metrics (as MANAGEMENT_PORT in the app). */
  managementUrl: string;
  app: NestFastifyApplication;
  drain: IngestDrain;
  /** Graceful shutdown, as SIGTERM runs it (Nest's shutdown hooks). */
  close(): Promise<void>;
}

@Module({})
class IngestServiceModule {
  static forRoot(options: IngestServiceOptions, admin: Admin): DynamicModule {
    const authentication = HttpAuthModule.register({
      jwtSecret: TEST_JWT_SECRET,
      apiKeyCacheTtlMs: options.apiKeyCacheTtlMs,
      apiKeys: { useFactory: () => new ApiKeyRepository(options.dataSource) },
    });
    return {
      module: IngestServiceModule,
      imports: [
        MetricsModule.forRoot({ service: 'ingest-api' }),
        IngestPublishModule.register({
          messagesTopic: options.messagesTopic,
          partitions: options.partitions,
          authentication,
          publishRateLimit: { messagesPerSecond: options.publishRatePerSec ?? 0, redisUrl: options.redisUrl },
          kafka: { useFactory: () => options.kafka },
          dataSource: { useFactory: () => options.dataSource },
        }),
        HistoryQueryModule.register({
          authentication,
          dataSource: { useFactory: () => options.dataSource },
        }),
        HealthModule.forRoot({
          useFactory: () => [
            { name: 'kafka', check: () => probeKafka(admin, [options.messagesTopic]) },
            { name: 'database', check: () => probeDatabase(options.dataSource) },
          ],
        }),
      ],
    };
  }
}

export async function startIngestService(options: IngestServiceOptions): Promise<RunningIngestService> {
  const admin = options.kafka.admin();
  await admin.connect().catch(() => undefined);
  const app = await NestFactory.create<NestFastifyApplication>(IngestServiceModule.forRoot(options, admin), ingestHttpAdapter(), {
    bodyParser: false,
    logger: options.logger ?? false,
    abortOnError: false,
  });
  configureIngestHttp(app, { maxBodyBytes: options.maxBodyBytes ?? 65_536, allowedOrigins: options.allowedOrigins });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  const management = await startManagementServer(app, { host: '127.0.0.1', port: 0 });
  let closing: Promise<void> | undefined;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    managementUrl: management.url,
    app,
    drain: app.get(IngestDrain),
    close: () =>
      (closing ??= (async () => {
        await app.close();
        await management.close();
        await admin.disconnect().catch(() => undefined);
      })()),
  };
}

/** The caller most tests act as: may publish to `team-1:*` and `lobby`. */
export const ALICE_TOKEN = signToken({ sub: 'alice', rooms: ['team-1:*', 'lobby'] }, TEST_JWT_SECRET);

export interface ApiReply {
  status: number;
  headers: Headers;
  body: unknown;
}

export interface ApiCallOptions {
  /** Bearer token; defaults to ALICE_TOKEN, `null` sends no Authorization header. */
  token?: string | null;
  json?: unknown;
  /** Sent as is instead of `json` (malformed bodies), with `contentType` (default JSON). */
  rawBody?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

/** One HTTP call to the ingest API; the body is parsed as JSON when it is JSON, else left as text. */
export async function callApi(
  baseUrl: string,
  method: 'GET' | 'POST',
  path: string,
  options: ApiCallOptions = {},
): Promise<ApiReply> {
  const headers: Record<string, string> = { ...options.headers };
  const token = options.token === undefined ? ALICE_TOKEN : options.token;
  if (token !== null) headers['authorization'] = `Bearer ${token}`;
  let body: string | undefined;
  if (options.json !== undefined || options.rawBody !== undefined) {
    body = options.rawBody ?? JSON.stringify(options.json);
    headers['content-type'] = options.contentType ?? 'application/json';
  }
  const response = await fetch(`${baseUrl}${path}`, { method, headers, body });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Left as text so a failing assertion shows what came back instead of a JSON error.
  }
  return { status: response.status, headers: response.headers, body: parsed };
}
