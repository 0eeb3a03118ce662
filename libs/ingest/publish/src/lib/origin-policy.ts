/**
 * SEQCAST_ALLOWED_ORIGINS for the HTTP API: a browser request from any other origin is refused with
 * 403 `forbidden` before its body is read (not just left without CORS headers: a simple POST would
 * otherwise still be executed), and allowed origins get CORS headers, preflight included.
 */
import type { FastifyCorsOptions } from '@fastify/cors';
import { ANY_ORIGIN, isOriginAllowed } from '@seqcast/config';
import { ApiError } from '@seqcast/http-api';
import type { IngestRequest, RequestHook } from './http-types';
import { ingestMetrics } from './ingest.metrics';

function originOf(request: IngestRequest): string | undefined {
  const origin = request.headers['origin'];
  return Array.isArray(origin) ? origin[0] : origin;
}

export function originPolicyHook(allowed: readonly string[]): RequestHook {
  return (request, _reply, done) => {
    const origin = originOf(request);
    if (isOriginAllowed(origin, allowed)) return done();
    ingestMetrics.limitRejections.inc({ limit: 'origin' });
    done(ApiError.forbidden(`origin ${origin} is not allowed (SEQCAST_ALLOWED_ORIGINS)`));
  };
}

/**
 * @fastify/cors options for the origins the hook lets through (every origin with `*`). As the
 * `cors` package did under Express, every OPTIONS request is answered 204 (`strictPreflight` off:
 * no 400 for an OPTIONS without `Access-Control-Request-Method`).
 */
export function ingestCorsOptions(allowed: readonly string[]): FastifyCorsOptions {
  return {
    origin: allowed.includes(ANY_ORIGIN) ? '*' : [...allowed],
    methods: ['GET', 'POST'],
    allowedHeaders: ['Authorization', 'Content-Type', 'Content-Encoding', 'X-Request-Id'],
    exposedHeaders: ['X-Request-Id', 'Retry-After'],
    maxAge: 600,
    strictPreflight: false,
  };
}
