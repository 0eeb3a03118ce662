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
  sleep: (ms: number) => Promise<void>;
}

export interface PublishRequest {
  roomId: string;
  clientMsgId: string;
  payload: JsonValue;
}

/** Statuses that say "not now" rather than "no": the request may be repeated as is. */
const RETRYABLE_STATUS = new Set([502, 503, 504]);

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

  for (let attempt = 0; attempt < deps.retry.maxAttempts; attempt++) {
    if (attempt > 0) await deps.sleep(retryAfterMs ?? backoffDelay(attempt - 1, deps.retry, deps.random));
    retryAfterMs = undefined;
    const token = await deps.token();
    let response: Response;
    try {
      response = await deps.fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body,
      });
    } catch (error) {
      lastError = new SeqcastError('network', `publish to ${request.roomId} failed: ${describeError(error)}`);
      continue;
    }
    if (response.ok) return readResult(response);
    const error = await readError(response);
    if (!RETRYABLE_STATUS.has(response.status)) throw error;
    lastError = error;
    retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
  }
  throw lastError ?? new SeqcastError('invalid_options', 'publishRetry.maxAttempts must be at least 1');
}

async function readResult(response: Response): Promise<PublishResult> {
  try {
    return (await response.json()) as PublishResult;
  } catch (error) {
    throw new SeqcastError('protocol', `ingest answered ${response.status} without a JSON body: ${describeError(error)}`, response.status);
  }
}

async function readError(response: Response): Promise<SeqcastError> {
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
