/**
 * edge-gateway: delivers events to Socket.IO clients and takes their `publish`es. The events and messages topics must exist with the agreed
 * partition count and the schema must be migrated before the first socket connects
 * (bootstrapService has the whole start-up and shutdown sequence).
 *
 * SIGTERM/SIGINT: readiness 503 and new handshakes refused (`server_draining`) at once; every
 * socket is told `server_restart { reconnectInMs }` and served on until then, then disconnected
 * (DrainService); once they are gone (or GATEWAY_DRAIN_TIMEOUT_MS passed) the events consumer
 * leaves its group and the process exits 0. The drain timeout + SHUTDOWN_MARGIN_MS, or a second
 * signal, force exit 1, which loses nothing: clients resume from their cursors elsewhere.
 */
import { EdgeIoAdapter } from '@seqcast/gateway-delivery';
import { bootstrapService } from '@seqcast/service-runtime';
import { AppModule, SERVICE } from './app.module';
import { loadGatewayConfig } from './config';
import { listenTarget, supportsReusePort } from './listen';

// With reusePort every listener may bind beside a copy of this gateway that is still draining.
const reusePort = supportsReusePort();

void bootstrapService({
  name: SERVICE,
  loadConfig: () => loadGatewayConfig(),
  // The messages topic too: sockets publish to it (the same agreed partition count as ingest-api's).
  topics: (config) => [config.kafka.eventsTopic, config.publish.messagesTopic],
  appModule: (config, resources) => AppModule.forRoot(config, resources),
  shutdownTimeoutMs: (config) => config.shutdownTimeoutMs,
  configure: (app, config) => app.useWebSocketAdapter(new EdgeIoAdapter(app, config.socket)),
  reusePort,
  // Nest hands this straight to http.Server#listen, which takes an options object.
  listen: (app, config) => app.listen(listenTarget(config.port, config.host, reusePort, config.listenBacklog) as unknown as number),
  describe: (config) => `instance ${config.instanceId}${reusePort ? ', reusePort' : ''}`,
});
