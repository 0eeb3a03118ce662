export interface BackoffOptions {
  baseDelayMs: number;
  maxDelayMs: number;
}

/**
 * Exponential backoff with full jitter: uniform in [0, min(max, base * 2^attempt)). Full jitter
 * spreads a crowd of clients that lost the same gateway so they do not come back in lockstep.
 * `attempt` counts from 0 (the first retry).
 */
export function backoffDelay(attempt: number, opts: BackoffOptions, random: () => number = Math.random): number {
  const exponent = Math.max(0, Math.floor(attempt));
  const ceiling = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** exponent);
  // Clamp: an injected random() outside [0, 1) must not push the delay past the ceiling.
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.floor(r * Math.max(0, ceiling));
}
