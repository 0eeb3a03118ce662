import type { ErrorCode } from '@seqcast/contracts/wire';

/**
 * Codes a SeqcastError can carry: the server's stable codes (docs/protocol.md "Errors") plus the
 * SDK's own, for conditions that never reach a server.
 */
export type SeqcastErrorCode =
  | ErrorCode
  /** fetch failed before an HTTP response arrived (DNS, refused, reset). */
  | 'network'
  /** The server answered in a shape the protocol does not allow. */
  | 'protocol'
  /** Informational: history older than retention was requested; delivery resumed later. */
  | 'truncated'
  /** The token option (function form) threw or returned no token. */
  | 'token_error'
  /** The cursor store threw; delivery continues from the in-memory cursor. */
  | 'cursor_store'
  /** A subscriber's onMessage threw; the message still counts as delivered. */
  | 'handler_error'
  /** The reconnect loop gave up (state `failed`) before the subscription was acknowledged. */
  | 'connection_failed'
  /** close() was called while the operation was pending. */
  | 'closed'
  /** unsubscribe() was called while subscribe() was pending. */
  | 'unsubscribed'
  /** The caller's AbortSignal ended the operation (publish). */
  | 'aborted'
  /** The gateway did not acknowledge a subscribe in time (subscribeTimeoutMs); the client reconnects. */
  | 'timeout'
  /** The client options are invalid. */
  | 'invalid_options';

export class SeqcastError extends Error {
  override readonly name = 'SeqcastError';

  constructor(
    readonly code: SeqcastErrorCode,
    message: string,
    /** HTTP status, when the error comes from an HTTP response. */
    readonly status?: number,
  ) {
    super(message);
  }
}

export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
