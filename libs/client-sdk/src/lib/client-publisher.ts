/**
 * The client's publishing: over the gateway connection when it is connected (the `publish` event,
 * docs/protocol.md "Publishing over the socket"), over HTTP to ingest-api otherwise. One
 * clientMsgId per publish() call, whatever carries it: a socket publish that times out, loses its
 * connection before the ack, or is answered `unavailable` (the gateway is draining, or the broker cannot take writes) is sent again
 * over HTTP with the same id, so at most one message results (a late socket copy is answered
 * `duplicate: true` or dropped by the ordering worker). Every other refusal is final on either path.
 */
import type { JsonValue, PublishAck, PublishResult } from '@seqcast/contracts/wire';
import type { PublishOptions, PublishRetryOptions } from './client-options';
import { abortableSleep, publishWithRetry } from './publisher';
import { randomId } from './random-id';
import { describeError, SeqcastError } from './seqcast-error';
import type { TokenProvider } from './token-source';
import type { Transport } from './transport';

export interface ClientPublisherOptions {
  ingestUrl: string;
  token: TokenProvider;
  retry: Required<PublishRetryOptions>;
  random: () => number;
  /** Test seam; the global fetch otherwise. */
  fetch?: typeof fetch;
  /** `http`: never use the socket. Default `auto`. */
  transport?: 'auto' | 'http';
  /** The gateway connection when it is connected, else undefined. */
  socket?: () => Transport | undefined;
  /** How long a socket publish may go unanswered before it is sent over HTTP (subscribeTimeoutMs). */
  socketTimeoutMs?: number;
  /** Calls `listener` when the connection stops being connected; returns the off function. */
  onConnectionLost?: (listener: () => void) => () => void;
}

/** What the socket attempt decided: the result, or "send it over HTTP". Final refusals are thrown. */
type SocketOutcome = { kind: 'done'; result: PublishResult } | { kind: 'fallback' };

export class ClientPublisher {
  constructor(private readonly options: ClientPublisherOptions) {}

  async publish(roomId: string, payload: JsonValue, options: PublishOptions = {}): Promise<PublishResult> {
    const clientMsgId = options.clientMsgId ?? randomId(this.options.random);
    const socket = this.options.transport === 'http' ? undefined : this.options.socket?.();
    if (socket?.publish) {
      const outcome = await this.overSocket(socket, { roomId, clientMsgId, payload }, options.signal);
      if (outcome.kind === 'done') return outcome.result;
    }
    return this.overHttp(roomId, clientMsgId, payload, options.signal);
  }

  private overSocket(
    socket: Transport,
    request: { roomId: string; clientMsgId: string; payload: JsonValue },
    signal: AbortSignal | undefined,
  ): Promise<SocketOutcome> {
    const send = socket.publish?.bind(socket);
    if (!send) return Promise.resolve({ kind: 'fallback' });
    const timeoutMs = this.options.socketTimeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(aborted(request.roomId, signal));
      let settled = false;
      const finish = (settle: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        offLost?.();
        settle();
      };
      // No answer in time: the connection is probably half-open; HTTP takes the same clientMsgId.
      const timer = setTimeout(() => finish(() => resolve({ kind: 'fallback' })), timeoutMs);
      // The connection went while we waited: its ack can never come, so HTTP takes it now.
      const offLost = this.options.onConnectionLost?.(() => finish(() => resolve({ kind: 'fallback' })));
      const onAbort = () => finish(() => reject(aborted(request.roomId, signal as AbortSignal)));
      signal?.addEventListener('abort', onAbort, { once: true });
      send(request, (ack: PublishAck) =>
        finish(() => {
          if (ack.ok) return resolve({ kind: 'done', result: ack.result });
          // `unavailable`: this gateway cannot take it now (draining, broker down); ingest-api may.
          if (ack.error.code === 'unavailable') return resolve({ kind: 'fallback' });
          reject(new SeqcastError(ack.error.code, ack.error.message));
        }),
      );
    });
  }

  private overHttp(roomId: string, clientMsgId: string, payload: JsonValue, signal: AbortSignal | undefined): Promise<PublishResult> {
    const globalFetch = globalThis.fetch as typeof fetch | undefined;
    // Called as a plain function: browsers reject window.fetch invoked with another `this`
    // ("Illegal invocation"), which is what calling it as deps.fetch() would do.
    const fetchImpl =
      this.options.fetch ??
      (globalFetch ? (input: RequestInfo | URL, init?: RequestInit) => globalFetch(input, init) : undefined);
    if (!fetchImpl) throw new SeqcastError('invalid_options', 'publish needs a global fetch (Node >= 20 or a browser)');
    const { random, token } = this.options;
    return publishWithRetry(
      { roomId, clientMsgId, payload },
      {
        ingestUrl: this.options.ingestUrl,
        fetch: fetchImpl,
        token: () => token.resolve(),
        retry: this.options.retry,
        random,
        sleep: abortableSleep,
        signal,
      },
    );
  }
}

function aborted(roomId: string, signal: AbortSignal): SeqcastError {
  const reason = signal.reason === undefined ? '' : `: ${describeError(signal.reason)}`;
  // The request was sent and may have been accepted; publishing again with the same clientMsgId is safe.
  return new SeqcastError('aborted', `publish to ${roomId} was aborted${reason}`);
}
