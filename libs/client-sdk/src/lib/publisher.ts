/**
 * HTTP publish with safe retries. Safety comes from the protocol, not from luck: the same
 * (roomId, sender, clientMsgId) never yields a second message, so every retry reuses the id and the
 * payload (the result says `duplicate: true` when the server recognised a retry).
 */
import type { ErrorEnvelope, JsonValue, PublishResult } from '@seqcast/contracts/wire';
import { backoffDelay } from './backoff';
import { describeError, SeqcastError, type SeqcastErrorCode } from './seqcast-error';

export interface PublishRetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface PublishDeps {
  ingestUrl: string;
  fetch: typeof fetch;
  token: () => Promise<string>;
  retry: PublishRetryPolicy;
  random: () => number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Stops waiting and retrying; see PublishOptions.signal. */
  signal?: AbortSignal;
}

export interface PublishRequest {
  roomId: string;
  clientMsgId: string;
  payload: JsonValue;
}

/** Statuses that say "not now" rather than "no": the request may be repeated as is. */
export const RETRYABLE_STATUS = new Set([502, 503, 504]);

const CODE_BY_STATUS: Record<number, SeqcastErrorCode> = {
  400: 'invalid_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'idempotency_conflict',
  413: 'payload_too_large',
  503: 'unavailable',
};

export async function publishWithRetry(request: PublishRequest, deps: PublishDeps): Promise<PublishResult> {
  const url = `${deps.ingestUrl.replace(/\/+$/, '')}/v1/rooms/${encodeURIComponent(request.roomId)}/messages`;
  const body = JSON.stringify({ clientMsgId: request.clientMsgId, payload: request.payload });
  let lastError: SeqcastError | undefined;
  /** What the last 503 asked for; it overrides our own backoff, the server knows its state. */
  let retryAfterMs: number | undefined;

  const signal = deps.signal;
  const checkAborted = () => {
    if (signal?.aborted) throw abortedError(request.roomId, signal);
  };

  for (let attempt = 0; attempt < deps.retry.maxAttempts; attempt++) {
    checkAborted();
    if (attempt > 0) {
      await deps.sleep(retryAfterMs ?? backoffDelay(attempt - 1, deps.retry, deps.random), signal);
      checkAborted();
    }
    retryAfterMs = undefined;
    const token = await deps.token();
    checkAborted();
    let response: Response;
    try {
      response = await deps.fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body,
        signal,
      });
    } catch (error) {
      // fetch rejects with the signal's reason when aborted: that is the caller's decision, not a
      // network failure to retry.
      checkAborted();
      lastError = new SeqcastError('network', `publish to ${request.roomId} failed: ${describeError(error)}`);
      continue;
    }
    if (response.ok) {
      try {
        return await readResult(response);
      } catch (error) {
        checkAborted();
        throw error;
      }
    }
    const error = await readError(response);
    if (!RETRYABLE_STATUS.has(response.status)) throw error;
    lastError = error;
    retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
  }
  throw lastError ?? new SeqcastError('invalid_options', 'publishRetry.maxAttempts must be at least 1');
}

function abortedError(roomId: string, signal: AbortSignal): SeqcastError {
  const reason = signal.reason === undefined ? '' : `: ${describeError(signal.reason)}`;
  // A request already sent may still have been accepted; retrying with the same clientMsgId is safe.
  return new SeqcastError('aborted', `publish to ${roomId} was aborted${reason}`);
}

/** A delay that ends early (resolves) when the signal aborts; the caller checks the signal after. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

async function readResult(response: Response): Promise<PublishResult> {
  try {
    return (await response.json()) as PublishResult;
  } catch (error) {
    throw new SeqcastError('protocol', `ingest answered ${response.status} without a JSON body: ${describeError(error)}`, response.status);
  }
}

export async function readError(response: Response): Promise<SeqcastError> {
  let code: SeqcastErrorCode = CODE_BY_STATUS[response.status] ?? 'internal';
  let message = `ingest answered HTTP ${response.status}`;
  try {
    const envelope = (await response.json()) as Partial<ErrorEnvelope> | null;
    if (typeof envelope?.error?.code === 'string') code = envelope.error.code;
    if (typeof envelope?.error?.message === 'string') message = envelope.error.message;
  } catch {
    // Not the protocol's envelope (a proxy's HTML page, say): the status still tells us enough.
  }
  return new SeqcastError(code, message, response.status);
}

/** Retry-After is delay-seconds or an HTTP-date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
