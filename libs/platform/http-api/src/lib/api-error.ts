import { type ErrorCode, ErrorCode as Codes } from '@seqcast/contracts';

/**
 * An error whose status, code and message are meant for the client as they are. Everything the
 * ingest API rejects on purpose is one of these; anything else the filter treats as a bug (500).
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    /** Seconds, sent as `Retry-After` (429 and 503). */
    readonly retryAfterSeconds?: number,
    /** What went wrong underneath: logged server-side, never sent. */
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'ApiError';
  }

  static invalidRequest(message: string): ApiError {
    return new ApiError(400, Codes.InvalidRequest, message);
  }

  static forbidden(message: string): ApiError {
    return new ApiError(403, Codes.Forbidden, message);
  }

  static idempotencyConflict(message: string): ApiError {
    return new ApiError(409, Codes.IdempotencyConflict, message);
  }

  static unavailable(message: string, cause?: unknown): ApiError {
    return new ApiError(503, Codes.Unavailable, message, RETRY_AFTER_SECONDS, cause);
  }
}

/** How long a client should wait before retrying after a 503: long enough for a broker or DB failover. */
export const RETRY_AFTER_SECONDS = 5;
