/** Where the client's JWT comes from: `getToken`, or `token` (a string or a function). */
import type { SeqcastClientOptions } from './client-options';
import { describeError, SeqcastError } from './seqcast-error';

export class TokenProvider {
  constructor(private readonly options: Pick<SeqcastClientOptions, 'getToken' | 'token'>) {}

  /** Only a function can hand out a fresher token than the one the socket has. */
  get refreshable(): boolean {
    return typeof (this.options.getToken ?? this.options.token) === 'function';
  }

  /** The current token; rejects with SeqcastError `token_error` when there is none. */
  async resolve(): Promise<string> {
    const source = this.options.getToken ?? this.options.token;
    let token: unknown;
    try {
      token = typeof source === 'function' ? await source() : source;
    } catch (error) {
      throw new SeqcastError('token_error', `the token function failed: ${describeError(error)}`);
    }
    if (typeof token !== 'string' || token.length === 0) {
      throw new SeqcastError('token_error', 'the token function returned no token');
    }
    return token;
  }
}
