import { ErrorCode } from '@seqcast/contracts';
import { ApiError, RETRY_AFTER_SECONDS } from '@seqcast/http-api';
import { KafkaUnavailableError } from '@seqcast/kafka';

/** A refused publish as a non-HTTP entry point answers it: the protocol's code, the message, when to retry. */
export interface PublishFailure {
  code: ErrorCode;
  message: string;
  /** Set for `rate_limited` and `unavailable`: wait at least this long before retrying. */
  retryAfterMs?: number;
  /** What went wrong underneath, for the server's log (a 5xx); never sent. */
  detail?: string;
}

/**
 * What the HTTP error filter does for ApiError and KafkaUnavailableError, for transports without
 * status codes (the socket `publish` ack): the same codes, messages and retry hints. Anything else
 * is a bug and answered `undefined` (the caller logs it and answers `internal`).
 */
export function publishFailureOf(error: unknown): PublishFailure | undefined {
  if (error instanceof ApiError) {
    return {
      code: error.code,
      message: error.message,
      ...(error.retryAfterSeconds === undefined ? {} : { retryAfterMs: error.retryAfterSeconds * 1000 }),
      ...(error.status >= 500 ? { detail: error.cause instanceof Error ? error.cause.message : error.message } : {}),
    };
  }
  if (error instanceof KafkaUnavailableError) {
    return {
      code: ErrorCode.Unavailable,
      message: 'the message broker cannot take writes right now; retry later',
      retryAfterMs: RETRY_AFTER_SECONDS * 1000,
      detail: error.message,
    };
  }
  return undefined;
}
