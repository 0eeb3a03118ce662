/** history() over an injected fetch: the URL it builds, the token it sends, its retries and errors. */
import type { HistoryPage } from '@seqcast/contracts/wire';
import { historyUrl } from './history';
import { SeqcastClient } from './seqcast-client';
import { SeqcastError } from './seqcast-error';

const ROOM = 'team-42:general';

interface Call {
  url: string;
  method: string | undefined;
  authorization: string | undefined;
}

function fakeFetch(replies: Array<Response | Error>) {
  const calls: Call[] = [];
  const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    calls.push({ url: String(input), method: init?.method, authorization: headers.get('authorization') ?? undefined });
    const reply = replies.shift() ?? new Error('test ran out of replies');
    if (reply instanceof Error) throw reply;
    return reply;
  }) as typeof globalThis.fetch;
  return { fetch, calls };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

const page: HistoryPage = {
  roomId: ROOM,
  epoch: 'e1',
  headSeq: 20,
  messages: [
    {
      roomId: ROOM,
      seq: 15,
      prevSeq: 11,
      epoch: 'e1',
      clientMsgId: 'c-15',
      senderId: 'alice',
      payload: { text: 'hi' },
      sentAt: '2030-01-01T00:00:00.000Z',
      sequencedAt: '2030-01-01T00:00:01.000Z',
    },
  ],
  hasMore: true,
  nextBeforeSeq: 15,
};

function client(fetch: typeof globalThis.fetch) {
  return new SeqcastClient(
    {
      gatewayUrl: 'http://gateway.test',
      ingestUrl: 'http://ingest.test/',
      token: async () => 'tok',
      publishRetry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
    },
    { fetch },
  );
}

describe('historyUrl', () => {
  it('sends only the options given, so the server defaults apply', () => {
    expect(historyUrl('http://ingest.test/', ROOM, {})).toBe('http://ingest.test/v1/rooms/team-42%3Ageneral/messages');
    expect(historyUrl('http://ingest.test', ROOM, { direction: 'backward', limit: 50 })).toBe(
      'http://ingest.test/v1/rooms/team-42%3Ageneral/messages?direction=backward&limit=50',
    );
    expect(historyUrl('http://ingest.test', ROOM, { beforeSeq: 15, limit: 50 })).toBe(
      'http://ingest.test/v1/rooms/team-42%3Ageneral/messages?beforeSeq=15&limit=50',
    );
    expect(historyUrl('http://ingest.test', ROOM, { afterSeq: -1 })).toBe(
      'http://ingest.test/v1/rooms/team-42%3Ageneral/messages?afterSeq=-1',
    );
  });
});

describe('SeqcastClient.history', () => {
  it('GETs the page with the bearer token and returns the body as is', async () => {
    const { fetch, calls } = fakeFetch([json(200, page)]);
    await expect(client(fetch).history(ROOM, { direction: 'backward', limit: 1 })).resolves.toEqual(page);
    expect(calls).toEqual([
      {
        url: 'http://ingest.test/v1/rooms/team-42%3Ageneral/messages?direction=backward&limit=1',
        method: 'GET',
        authorization: 'Bearer tok',
      },
    ]);
  });

  it('retries 503 and network failures, then answers', async () => {
    const { fetch, calls } = fakeFetch([
      json(503, { error: { code: 'unavailable', message: 'db down' } }, { 'retry-after': '0' }),
      new TypeError('fetch failed'),
      json(200, page),
    ]);
    await expect(client(fetch).history(ROOM, { beforeSeq: 20 })).resolves.toEqual(page);
    expect(calls).toHaveLength(3);
  });

  it('gives up after maxAttempts with the last error', async () => {
    const { fetch, calls } = fakeFetch([new TypeError('a'), new TypeError('b'), new TypeError('fetch failed')]);
    const attempt = client(fetch).history(ROOM);
    await expect(attempt).rejects.toBeInstanceOf(SeqcastError);
    await expect(attempt).rejects.toMatchObject({ code: 'network', message: expect.stringContaining('fetch failed') });
    expect(calls).toHaveLength(3);
  });

  it('does not retry a 400 and reports its code and message', async () => {
    const error = { error: { code: 'invalid_request', message: 'beforeSeq: beforeSeq cannot be combined with afterSeq' } };
    const { fetch, calls } = fakeFetch([json(400, error)]);
    await expect(client(fetch).history(ROOM, { afterSeq: 3, beforeSeq: 9 })).rejects.toMatchObject({
      code: 'invalid_request',
      status: 400,
      message: 'beforeSeq: beforeSeq cannot be combined with afterSeq',
    });
    expect(calls).toHaveLength(1);
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('navigated away'));
    const { fetch, calls } = fakeFetch([json(200, page)]);
    await expect(client(fetch).history(ROOM, { signal: controller.signal })).rejects.toMatchObject({ code: 'aborted' });
    expect(calls).toHaveLength(0);
  });
});
