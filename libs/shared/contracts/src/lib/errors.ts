/** Stable error codes: clients branch on these, never on messages. */
export const ErrorCode = {
  InvalidRequest: 'invalid_request',
  Unauthorized: 'unauthorized',
  Forbidden: 'forbidden',
  NotFound: 'not_found',
  /** 409: this sender already used the clientMsgId in the room for a different payload. */
  IdempotencyConflict: 'idempotency_conflict',
  PayloadTooLarge: 'payload_too_large',
  /** 415: a Content-Encoding or charset the API does not read. */
  UnsupportedMediaType: 'unsupported_media_type',
  /** 429 (HTTP, with Retry-After) or a failed socket ack: a rate limit was hit; slow down. */
  RateLimited: 'rate_limited',
  /** A failed socket ack: a count limit (e.g. subscriptions per socket) was reached. */
  LimitExceeded: 'limit_exceeded',
  Unavailable: 'unavailable',
  Internal: 'internal',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface ErrorBody {
  code: ErrorCode;
  message: string;
}

/** Every error the HTTP API returns, and `error` in failed socket acks. */
export interface ErrorEnvelope {
  error: ErrorBody;
}

export function errorEnvelope(code: ErrorCode, message: string): ErrorEnvelope {
  return { error: { code, message } };
}
