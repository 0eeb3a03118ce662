/**
 * The service's port, answering before the service itself can: while Kafka and PostgreSQL come up
 * (retried with backoff by openPlatformResources), orchestrators and load balancers get a truthful
 * answer instead of a refused connection: `/healthz` 200 (the process is fine, do not restart it),
 * `/readyz` 503 naming what start-up waits for, and anything else 503 `unavailable` with
 * `Retry-After` in the wire's error shape (docs/protocol.md). Closed right before Nest listens on
 * the same port.
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

export async function serveStartupProbes(options: { host: string; port: number }): Promise<StartupProbes> {
  let reason = 'starting';
  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
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
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  let closing: Promise<void> | undefined;
  return {
    waitingFor: (next) => {
      reason = next;
    },
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
