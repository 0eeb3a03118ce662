/** Batch retry backoff after a database or Kafka error: doubles from `initialMs` up to `maxMs`. */
export interface RetryBackoff {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_RETRY_BACKOFF: RetryBackoff = { initialMs: 200, maxMs: 5_000 };

/** The pause before the retry that follows failed attempt number `attempt` (1-based). */
export function retryDelayMs(attempt: number, backoff: RetryBackoff): number {
  return Math.min(backoff.initialMs * 2 ** (attempt - 1), backoff.maxMs);
}
