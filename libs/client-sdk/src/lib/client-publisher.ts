/** The client's HTTP publishing: fetch resolution, the client's token and retry policy, ids. */
import type { JsonValue, PublishResult } from '@seqcast/contracts/wire';
import type { PublishOptions, PublishRetryOptions } from './client-options';
import { abortableSleep, publishWithRetry } from './publisher';
import { randomId } from './random-id';
import { SeqcastError } from './seqcast-error';
import type { TokenProvider } from './token-source';

export interface ClientPublisherOptions {
  ingestUrl: string;
  token: TokenProvider;
  retry: Required<PublishRetryOptions>;
  random: () => number;
  /** Test seam; the global fetch otherwise. */
  fetch?: typeof fetch;
}

export class ClientPublisher {
  constructor(private readonly options: ClientPublisherOptions) {}

  publish(roomId: string, payload: JsonValue, options: PublishOptions = {}): Promise<PublishResult> {
    const globalFetch = globalThis.fetch as typeof fetch | undefined;
    // Called as a plain function: browsers reject window.fetch invoked with another `this`
    // ("Illegal invocation"), which is what calling it as deps.fetch() would do.
    const fetchImpl =
      this.options.fetch ??
      (globalFetch ? (input: RequestInfo | URL, init?: RequestInit) => globalFetch(input, init) : undefined);
    if (!fetchImpl) throw new SeqcastError('invalid_options', 'publish needs a global fetch (Node >= 20 or a browser)');
    const { random, token } = this.options;
    return publishWithRetry(
      { roomId, clientMsgId: options.clientMsgId ?? randomId(random), payload },
      {
        ingestUrl: this.options.ingestUrl,
        fetch: fetchImpl,
        token: () => token.resolve(),
        retry: this.options.retry,
        random,
        sleep: abortableSleep,
        signal: options.signal,
      },
    );
  }
}
