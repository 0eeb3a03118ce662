/**
 * The service's port, answering before the service itself can: while Kafka and PostgreSQL come up
 * (retried with backoff by openPlatformResources), orchestrators and load balancers get a truthful
 * answer instead of a refused connection: `/healthz` 200 (the process is fine, do not restart it),
 * `/readyz` 503 naming what start-up waits for, and anything else 503 `unavailable` with
 * `Retry-After` in the wire's error shape (docs/protocol.md). Served on the public port and on the
 * management port (where the chart's probes look), and closed right before the real servers take
 * those ports.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/** docs/protocol.md "Request ids": a client's own id is echoed when valid. */
const REQUEST_ID = /^[A-Za-z0-9._:/+=-]{1,128}$/;

export interface StartupProbes {
  /** What start-up is waiting for now, shown in `/readyz` under the `startup` check. */
  waitingFor(reason: string): void;
  /** Stops listening and closes every connection, so the real server can take the port. */
  close(): Promise<void>;
}

/** Seconds a client should wait before retrying a request refused during start-up. */
export const STARTUP_RETRY_AFTER_SECONDS = 1;

function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(text)),
    // Keep-alive connections would outlive close() and keep a client on a dead listener.
    Connection: 'close',
    ...headers,
  });
  response.end(text);
}

function requestId(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

export async function serveStartupProbes(options: {
  host: string;
  port: number;
  /** The management port, when the service has one: the same answers there. */
  managementPort?: number;
  /** SO_REUSEPORT (Node 22.12+), for a service that may start beside a draining copy on one host. */
  reusePort?: boolean;
}): Promise<StartupProbes> {
  let reason = 'starting';
  const handler = (request: IncomingMessage, response: ServerResponse): void => {
    const path = (request.url ?? '/').split('?')[0];
    request.resume();
    if (path === '/healthz') return send(response, 200, { status: 'ok' });
    if (path === '/readyz') {
      return send(response, 503, { status: 'not_ready', checks: { startup: `error: starting: ${reason}` } });
    }
    send(
      response,
      503,
      { error: { code: 'unavailable', message: `the service is starting (${reason}); retry later` } },
      { 'Retry-After': String(STARTUP_RETRY_AFTER_SECONDS), 'X-Request-Id': requestId(request) },
    );
  };
  const ports = options.managementPort === undefined ? [options.port] : [options.port, options.managementPort];
  const servers: Server[] = [];
  for (const port of ports) {
    const server = createServer(handler);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host: options.host, ...(options.reusePort ? { reusePort: true } : {}) }, () => {
        server.off('error', reject);
        resolve();
      });
    }).catch(async (error: unknown) => {
      await Promise.all(servers.map((open) => new Promise<void>((done) => open.close(() => done()))));
      throw error;
    });
    servers.push(server);
  }
  let closing: Promise<void> | undefined;
  return {
    waitingFor: (next) => {
      reason = next;
    },
    close: () => {
      closing ??= Promise.all(
        servers.map(
          (server) =>
            new Promise<void>((resolve) => {
              server.close(() => resolve());
              server.closeAllConnections();
            }),
        ),
      ).then(() => undefined);
      return closing;
    },
  };
}
