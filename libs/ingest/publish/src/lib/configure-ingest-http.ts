import fastifyCors from '@fastify/cors';
import type { Readable } from 'node:stream';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode, errorEnvelope } from '@seqcast/contracts';
import { accessLogHook } from './access-log';
import type { RequestHook } from './http-types';
import { IngestDrain } from './ingest-drain.service';
import { MAX_JSON_DEPTH } from './json-body-guard';
import { readJsonBody } from './json-body-reader';
import { ingestCorsOptions, originPolicyHook } from './origin-policy';
import { REQUEST_ID_HEADER, requestIdFrom, requestIdHook } from './request-id';

export interface IngestHttpOptions {
  /** INGEST_MAX_BODY_BYTES: larger bodies (decoded) are refused with 413 before any JSON is parsed. */
  maxBodyBytes: number;
  /** SEQCAST_ALLOWED_ORIGINS (resolved): browser origins allowed; `['*']`, the default, allows any. */
  allowedOrigins?: readonly string[];
}

/**
 * The ingest API's HTTP platform: Nest on Fastify (measured cheaper per request than Express,
 * docs/benchmarks.md). A new adapter per app: pass it to NestFactory.create, then call
 * configureIngestHttp before `listen`.
 */
export function ingestHttpAdapter(): FastifyAdapter {
  return new FastifyAdapter({
    // Keep-alive connections must not hold a rolling restart hostage (Nest's option is Express's).
    forceCloseConnections: true,
    // Node's own defaults, which ingest had on Express; Fastify's are 72 s and none (no bound on a
    // request that trickles in).
    keepAliveTimeout: 5_000,
    requestTimeout: 300_000,
    // No Nest middleware here: the request hooks below do that work without @fastify/middie.
    skipMiddie: true,
    routerOptions: {
      // Room ids are up to 128 characters (up to 3x that percent-encoded); find-my-way's default is 100.
      maxParamLength: 1024,
      // As Express's non-strict routing: `/v1/messages/batch/` is `/v1/messages/batch`.
      ignoreTrailingSlash: true,
    },
    // A URL the router cannot decode (`/%ff`) or a parameter over the length: still our envelope
    // and a request id (no hook has run for these).
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      void reply
        .code(400)
        .header(REQUEST_ID_HEADER, requestIdFrom(request.headers['x-request-id']))
        .send(errorEnvelope(ErrorCode.InvalidRequest, error.message));
    },
  });
}

/**
 * HTTP wiring the ingest API needs before `listen` (the app made with ingestHttpAdapter()). Hooks
 * run in the order added: the request id first (every later line carries it), then the access log,
 * the origin policy (a refused origin costs no body read), CORS (answers preflights), and the
 * drain gate (a refused request's body is never read). Then the one body parser, JSON, with our
 * size limit; any other content type is left unread (`body` undefined: the routes answer 400).
 */
export function configureIngestHttp(app: NestFastifyApplication, options: IngestHttpOptions): void {
  const fastify = app.getHttpAdapter().getInstance();
  // Own properties set on every request: declared once so requests keep one shape.
  fastify.decorateRequest('requestId', '');
  fastify.decorateRequest('principal', null);
  const hook = (run: RequestHook) => fastify.addHook('onRequest', run as never);
  hook(requestIdHook());
  hook(accessLogHook());
  const allowedOrigins = options.allowedOrigins ?? ['*'];
  hook(originPolicyHook(allowedOrigins));
  // Registered here (not app.enableCors, whose hook Nest runs ahead of every other) so that it runs
  // after the origin policy: a refused origin gets 403 and no CORS headers, preflight included.
  void fastify.register(fastifyCors, ingestCorsOptions(allowedOrigins));
  hook(app.get(IngestDrain).hook());

  fastify.removeAllContentTypeParsers();
  const limits = { limit: options.maxBodyBytes, maxDepth: MAX_JSON_DEPTH };
  fastify.addContentTypeParser('application/json', (request: FastifyRequest, payload: Readable) =>
    readJsonBody(request.headers, payload, limits),
  );
  // Anything else (or no Content-Type) is not read: Fastify would answer 415, the API answers 400.
  fastify.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
}
