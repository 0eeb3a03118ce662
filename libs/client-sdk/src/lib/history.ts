/**
 * history(): one page of a room's stored messages over HTTP (GET /v1/rooms/:roomId/messages,
 * docs/protocol.md "History"), with the publisher's token, retry policy and error mapping. A read
 * changes nothing, so every 503/502/504 and network failure may simply be asked again.
 */
import type { HistoryPage as WireHistoryPage, JsonValue } from '@seqcast/contracts/wire';
import { backoffDelay } from './backoff';
import type { PublishRetryOptions, RoomMessage } from './client-options';
import { abortableSleep, parseRetryAfter, readError, RETRYABLE_STATUS } from './publisher';
import { describeError, SeqcastError } from './seqcast-error';
import type { TokenProvider } from './token-source';

export interface HistoryOptions {
  /**
   * 'forward' (default): the oldest messages after `afterSeq`. 'backward': the latest messages
   * below `beforeSeq` (omitted: the room's latest). Given `beforeSeq` alone, backward.
   */
  direction?: 'forward' | 'backward';
  /** Page size, 1-1000; the server's default is 100. */
  limit?: number;
  /** Forward only: messages with seq > afterSeq (default -1, the start of retained history). */
  afterSeq?: number;
  /** Backward only: messages with seq < beforeSeq, e.g. the previous page's `nextBeforeSeq`. */
  beforeSeq?: number;
  /** Stops waiting and retrying; the promise rejects with `aborted`. */
  signal?: AbortSignal;
}

/** A history page; `messages` are in ascending seq whatever the direction. */
export type HistoryPage<TPayload extends JsonValue = JsonValue> = Omit<WireHistoryPage, 'messages'> & {
  messages: RoomMessage<TPayload>[];
};

export interface HistoryReaderOptions {
  ingestUrl: string;
  token: TokenProvider;
  retry: Required<PublishRetryOptions>;
  random: () => number;
  /** Test seam; the global fetch otherwise. */
  fetch?: typeof fetch;
}

export class HistoryReader {
  constructor(private readonly options: HistoryReaderOptions) {}

  async read(roomId: string, options: HistoryOptions = {}): Promise<HistoryPage> {
    const fetchImpl = resolveFetch(this.options.fetch);
    const url = historyUrl(this.options.ingestUrl, roomId, options);
    const { retry, random, token } = this.options;
    const signal = options.signal;
    const checkAborted = () => {
      if (signal?.aborted) {
        const reason = signal.reason === undefined ? '' : `: ${describeError(signal.reason)}`;
        throw new SeqcastError('aborted', `history of ${roomId} was aborted${reason}`);
      }
    };
    let lastError: SeqcastError | undefined;
    let retryAfterMs: number | undefined;
    for (let attempt = 0; attempt < retry.maxAttempts; attempt++) {
      checkAborted();
      if (attempt > 0) {
        // The server's Retry-After knows its state better than our backoff.
        await abortableSleep(retryAfterMs ?? backoffDelay(attempt - 1, retry, random), signal);
        checkAborted();
      }
      retryAfterMs = undefined;
      const bearer = await token.resolve();
      checkAborted();
      let response: Response;
      try {
        response = await fetchImpl(url, { method: 'GET', headers: { authorization: `Bearer ${bearer}` }, signal });
      } catch (error) {
        checkAborted();
        lastError = new SeqcastError('network', `history of ${roomId} failed: ${describeError(error)}`);
        continue;
      }
      if (response.ok) {
        try {
          return (await response.json()) as HistoryPage;
        } catch (error) {
          checkAborted();
          throw new SeqcastError('protocol', `ingest answered ${response.status} without a JSON body: ${describeError(error)}`, response.status);
        }
      }
      const error = await readError(response);
      if (!RETRYABLE_STATUS.has(response.status)) throw error;
      lastError = error;
      retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
    }
    throw lastError ?? new SeqcastError('invalid_options', 'publishRetry.maxAttempts must be at least 1');
  }
}

/** The request URL: only the options given become parameters, so the server's defaults apply. */
export function historyUrl(ingestUrl: string, roomId: string, options: HistoryOptions): string {
  const query = new URLSearchParams();
  if (options.direction !== undefined) query.set('direction', options.direction);
  if (options.afterSeq !== undefined) query.set('afterSeq', String(options.afterSeq));
  if (options.beforeSeq !== undefined) query.set('beforeSeq', String(options.beforeSeq));
  if (options.limit !== undefined) query.set('limit', String(options.limit));
  const search = query.toString();
  return `${ingestUrl.replace(/\/+$/, '')}/v1/rooms/${encodeURIComponent(roomId)}/messages${search ? `?${search}` : ''}`;
}

function resolveFetch(injected: typeof fetch | undefined): typeof fetch {
  if (injected) return injected;
  const globalFetch = globalThis.fetch as typeof fetch | undefined;
  if (!globalFetch) throw new SeqcastError('invalid_options', 'history needs a global fetch (Node >= 20 or a browser)');
  // Called as a plain function: browsers reject window.fetch invoked with another `this`.
  return (input: RequestInfo | URL, init?: RequestInit) => globalFetch(input, init);
}
