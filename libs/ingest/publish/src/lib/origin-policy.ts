/**
 * SEQCAST_ALLOWED_ORIGINS for the HTTP API: a browser request from any other origin is refused with
 * 403 `forbidden` before its body is read (not just left without CORS headers: a simple POST would
 * otherwise still be executed), and allowed origins get CORS headers, preflight included.
 */
import type { NestExpressApplication } from '@nestjs/platform-express';
import { ANY_ORIGIN, isOriginAllowed } from '@seqcast/config';
import { ApiError } from '@seqcast/http-api';
import type { IngestRequest, Next } from './http-types';
import { ingestMetrics } from './ingest.metrics';

function originOf(request: IngestRequest): string | undefined {
  const origin = request.headers['origin'];
  return Array.isArray(origin) ? origin[0] : origin;
}

export function originPolicyMiddleware(allowed: readonly string[]) {
  return (request: IngestRequest, _response: unknown, next: Next): void => {
    const origin = originOf(request);
    if (isOriginAllowed(origin, allowed)) return next();
    ingestMetrics.limitRejections.inc({ limit: 'origin' });
    next(ApiError.forbidden(`origin ${origin} is not allowed (SEQCAST_ALLOWED_ORIGINS)`));
  };
}

/** CORS answers for the origins the middleware lets through (every origin with `*`). */
export function enableIngestCors(app: NestExpressApplication, allowed: readonly string[]): void {
  app.enableCors({
    origin: allowed.includes(ANY_ORIGIN) ? '*' : [...allowed],
    methods: ['GET', 'POST'],
    allowedHeaders: ['Authorization', 'Content-Type', 'Content-Encoding', 'X-Request-Id'],
    exposedHeaders: ['X-Request-Id', 'Retry-After'],
    maxAge: 600,
  });
}
