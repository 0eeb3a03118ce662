/**
 * ordering-worker: sequences messages per room in PostgreSQL and publishes them as events. Both
 * topics must exist with the agreed partition count and the schema must be migrated before it joins
 * its consumer group (bootstrapService has the whole start-up and shutdown sequence). Its HTTP port
 * only serves /healthz, /readyz and /metrics.
 *
 * SIGTERM/SIGINT: readiness 503 at once, the batches in flight commit and publish their events,
 * the consumer leaves its group (the others rebalance at once), exit 0. WORKER_SHUTDOWN_TIMEOUT_MS
 * or a second signal force exit 1, which corrupts nothing: a batch transaction commits whole or
 * rolls back, and the next owner resumes from the stored position (republishing via the outbox).
 */
import { bootstrapService } from '@seqcast/service-runtime';
import { AppModule, SERVICE } from './app.module';
import { loadWorkerConfig } from './config';

void bootstrapService({
  name: SERVICE,
  loadConfig: () => loadWorkerConfig(),
  topics: (config) => [config.kafka.messagesTopic, config.kafka.eventsTopic],
  appModule: (config, resources) => AppModule.forRoot(config, resources),
  shutdownTimeoutMs: (config) => config.worker.shutdownTimeoutMs,
});
