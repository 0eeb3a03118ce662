/**
 * The management port: `/healthz`, `/readyz` and `/metrics` on a listener of their own
 * (MANAGEMENT_PORT), so the public port never serves metrics and the chart can restrict scraping
 * and probing to the cluster with a NetworkPolicy. Plain node:http on purpose: no middleware, no
 * auth, no body parsing — nothing a client of the public API could reach or slow down.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplicationContext } from '@nestjs/common';
import { register } from 'prom-client';
import { HealthController } from './health.controller';

export interface ManagementServerOptions {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  /** SO_REUSEPORT (Node 22.12+): a gateway restarting on one host binds beside its draining copy. */
  reusePort?: boolean;
}

export interface RunningManagementServer {
  port: number;
  url: string;
  close(): Promise<void>;
}

function send(response: ServerResponse, status: number, contentType: string, body: string): void {
  response.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
  response.end(body);
}

async function handle(health: HealthController | undefined, request: IncomingMessage, response: ServerResponse) {
  const path = (request.url ?? '/').split('?')[0];
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return send(response, 405, 'application/json', JSON.stringify({ error: 'method not allowed' }));
  }
  if (path === '/metrics') return send(response, 200, register.contentType, await register.metrics());
  if (health && path === '/healthz') return send(response, 200, 'application/json', JSON.stringify(health.healthz()));
  if (health && path === '/readyz') {
    let status = 200;
    const body = await health.readyz({ status: (code: number) => (status = code) });
    return send(response, status, 'application/json', JSON.stringify(body));
  }
  send(response, 404, 'application/json', JSON.stringify({ error: 'not found' }));
}

/**
 * Starts the management listener for an application that imports MetricsModule and HealthModule
 * (the probes answer exactly as the HealthModule's, drain included).
 */
export async function startManagementServer(
  app: INestApplicationContext,
  options: ManagementServerOptions,
): Promise<RunningManagementServer> {
  let health: HealthController | undefined;
  try {
    health = app.get(HealthController, { strict: false });
  } catch {
    health = undefined; // metrics only
  }
  const server: Server = createServer((request, response) => {
    handle(health, request, response).catch((error: unknown) => {
      if (!response.headersSent) send(response, 500, 'text/plain', 'internal error');
      else response.end();
      void error;
    });
  });
  // Probes and scrapes are short; idle keep-alive sockets must not delay an exit.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: options.port, host: options.host, ...(options.reusePort ? { reusePort: true } : {}) }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
  return {
    port,
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
