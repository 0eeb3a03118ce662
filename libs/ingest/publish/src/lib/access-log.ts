import { Logger } from '@nestjs/common';
import { type IngestRequest, OPERATIONAL_PATHS, pathOf, type RequestHook } from './http-types';
import { ingestMetrics } from './ingest.metrics';

/** One access line per request, as a JSON object in the logger's `message`. */
export interface AccessLine {
  event: 'http_request';
  requestId: string;
  method: string;
  /** Without the query string. */
  path: string;
  route: string;
  /** 0 when the client went away before an answer was sent. */
  status: number;
  durationMs: number;
  /** The token's subject, once authenticated; never the token. */
  userId?: string;
}

type Level = 'verbose' | 'debug' | 'log' | 'warn';

/**
 * Levels keep the default (`log`) output about problems: probes and scrapes are `verbose`, accepted
 * requests `debug` (a busy publisher would otherwise write a line per message), client errors `log`
 * and server errors `warn` (the error filter adds the cause at warn/error with the same request id).
 */
export function accessLevel(path: string, status: number): Level {
  if (OPERATIONAL_PATHS.has(path)) return 'verbose';
  if (status >= 500) return 'warn';
  if (status >= 400 || status === 0) return 'log';
  return 'debug';
}

/** `*` is @fastify/cors's catch-all OPTIONS route (preflights): no route of ours. */
export function routeOf(request: IngestRequest): string {
  const url = request.routeOptions?.url;
  return typeof url === 'string' && url !== '*' ? url : 'unmatched';
}

/** Logs and counts every request once it is answered (or abandoned by the client). */
export function accessLogHook(logger = new Logger('HttpAccess')): RequestHook {
  return (request, reply, done) => {
    const response = reply.raw;
    const started = performance.now();
    let logged = false;
    const finish = (answered: boolean) => {
      if (logged) return;
      logged = true;
      const status = answered || response.headersSent ? response.statusCode : 0;
      const route = routeOf(request);
      const method = request.method ?? '?';
      ingestMetrics.httpRequests.inc({ method, route, status: status === 0 ? 'aborted' : String(status) });
      const line: AccessLine = {
        event: 'http_request',
        requestId: request.requestId ?? '-',
        method,
        path: pathOf(request),
        route,
        status,
        durationMs: Math.round((performance.now() - started) * 10) / 10,
        ...(request.principal ? { userId: request.principal.userId } : {}),
      };
      logger[accessLevel(line.path, status)](line);
    };
    response.once('finish', () => finish(true));
    response.once('close', () => finish(false));
    done();
  };
}
