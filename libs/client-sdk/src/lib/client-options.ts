/**
 * The client's options (the public types), their defaults, and their validation: a bad option
 * fails the constructor with `invalid_options` instead of misbehaving later.
 */
import type { JsonValue, Message } from '@seqcast/contracts/wire';
import type { CursorStore } from './cursor-store';
import { SeqcastError } from './seqcast-error';
import type { SocketIoOptions, TransportFactory } from './transport';

export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'failed' | 'closed';

export interface StateDetail {
  /** Consecutive failed attempts so far (reconnecting, failed). */
  attempt?: number;
  /** How long until the next attempt (reconnecting). */
  delayMs?: number;
  /** Why the connection was lost or is being replaced. */
  reason?: string;
}

export interface GapInfo {
  /** The client's cursor: the seq the next message should have named as prevSeq. */
  expectedPrevSeq: number;
  gotPrevSeq: number | null;
}

export interface ReconnectOptions {
  /** Backoff ceiling for the first retry; doubles per consecutive failure. Default 500. */
  baseDelayMs?: number;
  /** Cap on the backoff ceiling. Default 30000. */
  maxDelayMs?: number;
  /** Consecutive failed reconnect attempts before giving up (state `failed`). Default 20. */
  maxRetries?: number;
}

export interface PublishRetryOptions {
  /** Total attempts including the first. Default 5. */
  maxAttempts?: number;
  /** Default 200. */
  baseDelayMs?: number;
  /** Default 5000. A 503's Retry-After takes precedence. */
  maxDelayMs?: number;
}

export type TokenSource = string | (() => string | Promise<string>);

/**
 * A message whose payload the app has typed. The server does not check payload shapes: the type is
 * the app's promise about what its publishers send, not something the SDK verifies.
 */
export type RoomMessage<TPayload extends JsonValue = JsonValue> = Omit<Message, 'payload'> & { payload: TPayload };

export interface SeqcastClientOptions {
  /** edge-gateway base URL, e.g. `http://localhost:3001`. */
  gatewayUrl: string;
  /** ingest-api base URL, e.g. `http://localhost:3000`. */
  ingestUrl: string;
  /**
   * Called for a JWT on every connect, reconnect, publish and whenever the gateway announces that
   * the socket's token expires soon (`token_expiring`), so a long-lived client never outlives its
   * token. Takes precedence over `token`.
   */
  getToken?: () => string | Promise<string>;
  /** A fixed JWT (the socket is disconnected at its `exp`), or a function (same as `getToken`). */
  token?: TokenSource;
  /** Where cursors live. Default: MemoryCursorStore (resume within this client's lifetime). */
  cursorStore?: CursorStore;
  reconnect?: ReconnectOptions;
  publishRetry?: PublishRetryOptions;
  /** Acks are cumulative; send at most one per room per this many milliseconds. Default 100. */
  ackDelayMs?: number;
  /**
   * A subscribe the gateway has not acknowledged within this many milliseconds means the
   * connection is not working (typically half-open): the client reports a `timeout` error and
   * reconnects (a counted failure), resubscribing every room from its cursor. Default 10000.
   */
  subscribeTimeoutMs?: number;
  /**
   * How publish() sends: `auto` (default) over the gateway connection when it is connected, over
   * HTTP to ingestUrl otherwise (and when the socket does not answer within subscribeTimeoutMs or
   * answers `unavailable`, with the same clientMsgId, so at most one message results); `http`:
   * always over HTTP.
   */
  publishTransport?: 'auto' | 'http';
  /** Passed to socket.io-client's io(); `reconnection` is forced off because the SDK owns it. */
  socketOptions?: SocketIoOptions;
  /** Source of jitter, injectable for tests. Default Math.random. */
  random?: () => number;
}

export interface PublishOptions {
  /** Your idempotency key; generated (and reused across retries) when omitted. */
  clientMsgId?: string;
  /**
   * Stops waiting and retrying: publish() rejects with SeqcastError `aborted`. A request already
   * sent may still have been accepted; publishing again with the same clientMsgId is safe.
   */
  signal?: AbortSignal;
}

/**
 * Test seams, not part of the supported API: the SDK's logic is exercised against a fake
 * transport and fetch. Production code leaves both out.
 * @internal
 */
export interface SeqcastClientInternals {
  transportFactory?: TransportFactory;
  fetch?: typeof fetch;
}

const DEFAULTS = {
  reconnect: { baseDelayMs: 500, maxDelayMs: 30_000, maxRetries: 20 },
  publishRetry: { maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 5_000 },
  ackDelayMs: 100,
  subscribeTimeoutMs: 10_000,
};

/** The options with every default filled in. */
export interface ResolvedOptions {
  reconnect: Required<ReconnectOptions>;
  publishRetry: Required<PublishRetryOptions>;
  ackDelayMs: number;
  subscribeTimeoutMs: number;
  publishTransport: 'auto' | 'http';
  random: () => number;
}

/** Validates the options (throwing `invalid_options`) and fills in the defaults. */
export function resolveOptions(options: SeqcastClientOptions): ResolvedOptions {
  requireUrl('gatewayUrl', options.gatewayUrl);
  requireUrl('ingestUrl', options.ingestUrl);
  if (options.getToken !== undefined && typeof options.getToken !== 'function') {
    throw new SeqcastError('invalid_options', 'getToken must be a function returning a token');
  }
  if (options.getToken === undefined && typeof options.token !== 'string' && typeof options.token !== 'function') {
    throw new SeqcastError('invalid_options', 'getToken (or token: a string or a function returning one) is required');
  }
  const reconnect = { ...DEFAULTS.reconnect, ...defined(options.reconnect) };
  const publishRetry = { ...DEFAULTS.publishRetry, ...defined(options.publishRetry) };
  const ackDelayMs = options.ackDelayMs ?? DEFAULTS.ackDelayMs;
  const subscribeTimeoutMs = options.subscribeTimeoutMs ?? DEFAULTS.subscribeTimeoutMs;
  requireNumber('reconnect.baseDelayMs', reconnect.baseDelayMs, 0);
  requireNumber('reconnect.maxDelayMs', reconnect.maxDelayMs, 0);
  requireNumber('reconnect.maxRetries', reconnect.maxRetries, 0);
  requireNumber('publishRetry.maxAttempts', publishRetry.maxAttempts, 1);
  requireNumber('publishRetry.baseDelayMs', publishRetry.baseDelayMs, 0);
  requireNumber('publishRetry.maxDelayMs', publishRetry.maxDelayMs, 0);
  requireNumber('ackDelayMs', ackDelayMs, 0);
  requireNumber('subscribeTimeoutMs', subscribeTimeoutMs, 1);
  const publishTransport = options.publishTransport ?? 'auto';
  if (publishTransport !== 'auto' && publishTransport !== 'http') {
    throw new SeqcastError('invalid_options', `publishTransport must be 'auto' or 'http', got ${JSON.stringify(publishTransport)}`);
  }
  return { reconnect, publishRetry, ackDelayMs, subscribeTimeoutMs, publishTransport, random: options.random ?? Math.random };
}

function defined<T extends object>(value: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(value ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function requireUrl(name: string, value: unknown): void {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new SeqcastError('invalid_options', `${name} must be a non-empty URL string, got ${JSON.stringify(value)}`);
  }
}

function requireNumber(name: string, value: unknown, min: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new SeqcastError('invalid_options', `${name} must be a number >= ${min}, got ${JSON.stringify(value)}`);
  }
}
