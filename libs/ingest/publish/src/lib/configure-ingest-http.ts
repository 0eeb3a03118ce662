import type { NestExpressApplication } from '@nestjs/platform-express';
import { accessLogMiddleware } from './access-log';
import { IngestDrain } from './ingest-drain.service';
import { requestIdMiddleware } from './request-id';
import { RequestBodyError } from './request-body-error';

export interface IngestHttpOptions {
  /** INGEST_MAX_BODY_BYTES: larger bodies are refused with 413 before any JSON is parsed. */
  maxBodyBytes: number;
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
  app.use(app.get(IngestDrain).middleware());
  app.useBodyParser('json', { limit: options.maxBodyBytes });
  // Express recognises error middleware by its four parameters. Re-wrapping keeps the parser's
  // `type` (Nest would otherwise turn invalid JSON into an anonymous BadRequestException).
  app.use((error: unknown, _request: unknown, _response: unknown, next: (error: unknown) => void) => {
    next(RequestBodyError.from(error) ?? error);
  });
}
