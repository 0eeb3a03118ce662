import type { NestExpressApplication } from '@nestjs/platform-express';
import { ApiError } from '@seqcast/http-api';
import { accessLogMiddleware } from './access-log';
import { IngestDrain } from './ingest-drain.service';
import { hasOnlyWellFormedStrings, MAX_JSON_DEPTH, malformedUnicodeError, verifyJsonBody } from './json-body-guard';
import { enableIngestCors, originPolicyMiddleware } from './origin-policy';
import { requestIdMiddleware } from './request-id';
import { RequestBodyError } from './request-body-error';

export interface IngestHttpOptions {
  /** INGEST_MAX_BODY_BYTES: larger bodies are refused with 413 before any JSON is parsed. */
  maxBodyBytes: number;
  /** SEQCAST_ALLOWED_ORIGINS (resolved): browser origins allowed; `['*']`, the default, allows any. */
  allowedOrigins?: readonly string[];
}

/**
 * HTTP wiring the ingest API needs before `listen`: create the app with `{ bodyParser: false }`
 * and call this. Order matters: the request id first (every later line carries it), then the
 * access log, then the drain gate (a refused request's body is never read), and the JSON parser,
 * the only one, with our size limit.
 */
export function configureIngestHttp(app: NestExpressApplication, options: IngestHttpOptions): void {
  app.disable('x-powered-by');
  app.use(requestIdMiddleware());
  app.use(accessLogMiddleware());
  // Before the drain gate and the parser: a refused origin costs no body read.
  const allowedOrigins = options.allowedOrigins ?? ['*'];
  app.use(originPolicyMiddleware(allowedOrigins));
  enableIngestCors(app, allowedOrigins);
  app.use(app.get(IngestDrain).middleware());
  // gzip/deflate/br bodies are decoded by the parser, the size limit applying to the decoded
  // bytes (no decompression bomb gets past it). `verify` sees those bytes before JSON.parse: depth,
  // UTF-8 and charset are refused there. Nest's typings omit `verify` (it uses it for rawBody,
  // which we do not enable), so the options go in as a variable.
  const parserOptions = { limit: options.maxBodyBytes, verify: verifyJsonBody(MAX_JSON_DEPTH) };
  app.useBodyParser('json', parserOptions);
  app.use((request: { body?: unknown }, _response: unknown, next: (error?: unknown) => void) => {
    next(request.body === undefined || hasOnlyWellFormedStrings(request.body) ? undefined : malformedUnicodeError());
  });
  // Express recognises error middleware by its four parameters. Re-wrapping keeps the parser's
  // `type` (Nest would otherwise turn invalid JSON into an anonymous BadRequestException). Errors
  // reaching this point come from reading the body; an untyped 4xx one is a body that could not be
  // decoded (e.g. `Content-Encoding: gzip` on bytes that are not gzip). ApiErrors (the origin policy's)
  // pass as they are.
  app.use((error: unknown, _request: unknown, _response: unknown, next: (error: unknown) => void) => {
    if (error instanceof ApiError) return next(error);
    next(RequestBodyError.from(error) ?? RequestBodyError.undecodable(error) ?? error);
  });
}
