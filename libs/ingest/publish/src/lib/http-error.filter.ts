import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { AuthError } from '@seqcast/auth';
import { type ErrorCode, ErrorCode as Codes, errorEnvelope } from '@seqcast/contracts';
import { KafkaUnavailableError } from '@seqcast/kafka';
import { ApiError, RETRY_AFTER_SECONDS } from '@seqcast/http-api';
import { type IngestRequest, pathOf } from './http-types';
import { ingestMetrics } from './ingest.metrics';
import { RequestBodyError } from './request-body-error';

/** What the filter needs of the HTTP platform (Nest's adapter: Fastify for ingest-api, or Express). */
export interface ErrorReplier {
  isHeadersSent(response: unknown): boolean;
  setHeader(response: unknown, name: string, value: string): unknown;
  reply(response: unknown, body: unknown, statusCode?: number): unknown;
  end(response: unknown, message?: string): unknown;
}

interface Problem {
  status: number;
  code: ErrorCode;
  message: string;
  retryAfterSeconds?: number;
  /** Set for failures the operator must see (5xx); never sent to the client. */
  log?: { level: 'warn' | 'error'; detail: string };
}

const INTERNAL_MESSAGE = 'internal server error';

/** The filter's log line for a 5xx: JSON in the logger's `message`, joined to the access line by requestId. */
export interface ErrorLine {
  event: 'http_error';
  requestId: string;
  method: string;
  path: string;
  status: number;
  code: ErrorCode;
  detail: string;
}

/**
 * The single place an HTTP error becomes a response: always `{ error: { code, message } }`, never
 * Nest's default body or a stack trace. Unknown errors are bugs: logged with their stack here,
 * answered with a bare 500. Every rejection is counted by code.
 */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpErrorFilter');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const platform: ErrorReplier = this.adapterHost.httpAdapter;
    const response = http.getResponse<unknown>();
    const request = http.getRequest<IngestRequest>();
    const problem = toProblem(exception);
    ingestMetrics.rejectedRequests.inc({ code: problem.code });

    if (problem.log) {
      const line: ErrorLine = {
        event: 'http_error',
        requestId: request.requestId ?? '-',
        method: request.method ?? '?',
        path: pathOf(request),
        status: problem.status,
        code: problem.code,
        detail: problem.log.detail,
      };
      if (problem.log.level === 'error') this.logger.error(line);
      else this.logger.warn(line);
    }
    if (platform.isHeadersSent(response)) {
      // Too late for an error body; ending the response is all that keeps the client from hanging.
      platform.end(response);
      return;
    }
    if (problem.retryAfterSeconds !== undefined) {
      platform.setHeader(response, 'Retry-After', String(problem.retryAfterSeconds));
    }
    platform.reply(response, errorEnvelope(problem.code, problem.message), problem.status);
  }
}

function toProblem(exception: unknown): Problem {
  if (exception instanceof ApiError) {
    return {
      status: exception.status,
      code: exception.code,
      message: exception.message,
      retryAfterSeconds: exception.retryAfterSeconds,
      log: exception.status >= 500 ? { level: 'warn', detail: withCause(exception) } : undefined,
    };
  }
  if (exception instanceof AuthError) {
    return { status: 401, code: Codes.Unauthorized, message: exception.message };
  }
  if (exception instanceof KafkaUnavailableError) {
    return {
      status: 503,
      code: Codes.Unavailable,
      message: 'the message broker cannot take writes right now; retry later',
      retryAfterSeconds: RETRY_AFTER_SECONDS,
      log: { level: 'warn', detail: exception.message },
    };
  }
  if (exception instanceof HttpException) return fromStatus(exception.getStatus(), httpExceptionMessage(exception));

  const bodyError = RequestBodyError.from(exception);
  if (bodyError) return fromRequestBodyError(bodyError);
  const frameworkError = fastifyError(exception);
  if (frameworkError) return frameworkError;

  return {
    status: 500,
    code: Codes.Internal,
    message: INTERNAL_MESSAGE,
    log: {
      level: 'error',
      detail: exception instanceof Error ? (exception.stack ?? exception.message) : String(exception),
    },
  };
}

/**
 * Fastify's own errors (`code` FST_…, with a `statusCode`) that reach the filter: a Content-Type
 * header it cannot parse is answered as a body that is not JSON was under Express (400, the
 * request-validation wording); other client errors by status.
 */
function fastifyError(exception: unknown): Problem | undefined {
  if (!(exception instanceof Error)) return undefined;
  const { code, statusCode } = exception as { code?: unknown; statusCode?: unknown };
  if (typeof code !== 'string' || !code.startsWith('FST_') || typeof statusCode !== 'number') return undefined;
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return {
      status: 400,
      code: Codes.InvalidRequest,
      message: 'request body must be a JSON object sent with Content-Type: application/json',
    };
  }
  return fromStatus(statusCode, statusCode < 500 ? exception.message : INTERNAL_MESSAGE, exception.message);
}

function withCause(error: Error): string {
  const cause = error.cause;
  if (cause === undefined) return error.message;
  return `${error.message} (cause: ${cause instanceof Error ? cause.message : String(cause)})`;
}

function fromRequestBodyError(error: RequestBodyError): Problem {
  switch (error.type) {
    case 'entity.too.large':
      return {
        status: 413,
        code: Codes.PayloadTooLarge,
        message:
          error.limit === undefined
            ? 'request body is too large'
            : `request body exceeds the limit of ${error.limit} bytes`,
      };
    case 'entity.parse.failed':
      return { status: 400, code: Codes.InvalidRequest, message: `request body is not valid JSON: ${error.message}` };
    case 'entity.too.deep':
    case 'entity.invalid.utf8':
    case 'encoding.invalid':
      return { status: 400, code: Codes.InvalidRequest, message: error.message };
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return {
        status: 415,
        code: Codes.UnsupportedMediaType,
        message: `${error.message} (bodies are UTF-8 JSON, optionally gzip, deflate or br encoded)`,
      };
    default:
      // Unsupported charset/encoding, aborted or short bodies: the client sent something unreadable.
      return error.status < 500
        ? { status: 400, code: Codes.InvalidRequest, message: `unreadable request body: ${error.message}` }
        : fromStatus(error.status, INTERNAL_MESSAGE, error.message);
  }
}

function fromStatus(status: number, message: string, detail = message): Problem {
  switch (status) {
    case 401:
      return { status, code: Codes.Unauthorized, message };
    case 403:
      return { status, code: Codes.Forbidden, message };
    case 404:
      return { status, code: Codes.NotFound, message };
    case 413:
      return { status, code: Codes.PayloadTooLarge, message };
    case 415:
      return { status, code: Codes.UnsupportedMediaType, message };
    case 429:
      return { status, code: Codes.RateLimited, message };
    case 503:
      return {
        status,
        code: Codes.Unavailable,
        message,
        retryAfterSeconds: RETRY_AFTER_SECONDS,
        log: { level: 'warn', detail },
      };
  }
  if (status >= 400 && status < 500) return { status: 400, code: Codes.InvalidRequest, message };
  return { status: 500, code: Codes.Internal, message: INTERNAL_MESSAGE, log: { level: 'error', detail } };
}

function httpExceptionMessage(exception: HttpException): string {
  const body = exception.getResponse();
  if (typeof body === 'string') return body;
  const message = (body as { message?: unknown }).message;
  if (typeof message === 'string') return message;
  if (Array.isArray(message)) return message.map(String).join('; ');
  return exception.message;
}
