/**
 * publish() against a real HTTP server on 127.0.0.1 (node:http stands in for ingest-api), so the
 * SDK's actual fetch, headers, body and retry timing are what is tested.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseRetryAfter } from './publisher';
import { SeqcastClient, type SeqcastClientOptions } from './seqcast-client';
import { SeqcastError } from './seqcast-error';

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  contentType: string | undefined;
  body: { clientMsgId: string; payload: unknown };
  at: number;
}

type Reply = (res: ServerResponse, req: IncomingMessage) => void;

let server: Server;
let baseUrl: string;
let seen: Seen[];
let replies: Reply[];

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Reply => (res) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};
const accepted: Reply = (res, req) => {
  const { clientMsgId } = seen[seen.length - 1].body;
  json(202, { roomId: decodeURIComponent(req.url?.split('/')[3] ?? ''), clientMsgId, partition: 7, offset: 1187, duplicate: false })(res, req);
};
const unavailable = (retryAfter?: string): Reply =>
  json(503, { error: { code: 'unavailable', message: 'kafka is not answering' } }, retryAfter ? { 'retry-after': retryAfter } : {});
/** Drops the connection without an answer: fetch rejects, as on a crash or reset. */
const hangUp: Reply = (res) => res.socket?.destroy();

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        authorization: req.headers.authorization,
        contentType: req.headers['content-type'],
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
        at: Date.now(),
      });
      const reply = replies.shift() ?? json(500, { error: { code: 'internal', message: 'test ran out of replies' } });
      reply(res, req);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  seen = [];
  replies = [];
});

function client(options: Partial<SeqcastClientOptions> = {}): SeqcastClient {
  return new SeqcastClient({
    gatewayUrl: 'http://127.0.0.1:1',
    ingestUrl: `${baseUrl}/`,
    token: 'tok',
    publishRetry: { maxAttempts: 5, baseDelayMs: 1, maxDelayMs: 5 },
    ...options,
  });
}

describe('SeqcastClient.publish', () => {
  it('posts the message with the bearer token and returns the 202 body', async () => {
    replies = [accepted];
    const result = await client().publish('team-42:general', { text: 'hello' }, { clientMsgId: 'c-7f3a-0001' });
    expect(result).toEqual({
      roomId: 'team-42:general',
      clientMsgId: 'c-7f3a-0001',
      partition: 7,
      offset: 1187,
      duplicate: false,
    });
    expect(seen).toEqual([
      expect.objectContaining({
        method: 'POST',
        url: '/v1/rooms/team-42%3Ageneral/messages',
        authorization: 'Bearer tok',
        contentType: 'application/json',
        body: { clientMsgId: 'c-7f3a-0001', payload: { text: 'hello' } },
      }),
    ]);
  });

  it('generates a protocol-valid clientMsgId when none is given', async () => {
    replies = [accepted, accepted];
    const c = client();
    await c.publish('r1', null);
    await c.publish('r1', null);
    const [a, b] = seen.map((s) => s.body.clientMsgId);
    expect(a).toMatch(/^[A-Za-z0-9._:-]{1,64}$/);
    expect(b).not.toBe(a);
    expect(seen[0].body).toHaveProperty('payload', null);
  });

  it('retries 503s and network errors with the same clientMsgId until accepted', async () => {
    replies = [unavailable(), hangUp, unavailable(), accepted];
    const result = await client().publish('r1', { n: 1 });
    expect(seen).toHaveLength(4);
    const ids = new Set(seen.map((s) => s.body.clientMsgId));
    expect(ids.size).toBe(1);
    expect(result.clientMsgId).toBe(seen[0].body.clientMsgId);
  });

  it('honours Retry-After', async () => {
    replies = [unavailable('1'), accepted];
    await client().publish('r1', 1);
    expect(seen).toHaveLength(2);
    // Our own backoff would have waited at most 5 ms.
    expect(seen[1].at - seen[0].at).toBeGreaterThanOrEqual(950);
  });

  it('gives up after maxAttempts with the last error', async () => {
    replies = Array.from({ length: 10 }, () => unavailable());
    const error = await client({ publishRetry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 } })
      .publish('r1', 1)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SeqcastError);
    expect(error).toMatchObject({ code: 'unavailable', status: 503, message: 'kafka is not answering' });
    expect(seen).toHaveLength(3);
  });

  it('reports a network error when the server is unreachable after all attempts', async () => {
    const c = client({ ingestUrl: 'http://127.0.0.1:1', publishRetry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 } });
    await expect(c.publish('r1', 1)).rejects.toMatchObject({ code: 'network' });
  });

  it.each([
    [400, 'invalid_request'],
    [401, 'unauthorized'],
    [403, 'forbidden'],
    [409, 'idempotency_conflict'],
    [413, 'payload_too_large'],
  ])('does not retry %i', async (status, code) => {
    replies = [json(status, { error: { code, message: `nope (${code})` } }), accepted];
    const error = await client().publish('r1', 1).catch((e: unknown) => e);
    expect(error).toMatchObject({ code, status, message: `nope (${code})` });
    expect(seen).toHaveLength(1);
  });

  it('derives the code from the status when the body is not the error envelope', async () => {
    replies = [
      (res) => {
        res.writeHead(403, { 'content-type': 'text/html' });
        res.end('<h1>Forbidden</h1>');
      },
    ];
    await expect(client().publish('r1', 1)).rejects.toMatchObject({ code: 'forbidden', status: 403 });
  });

  it('rejects with aborted, without a request, when the signal is already aborted', async () => {
    replies = [accepted];
    const error = await client().publish('r1', 1, { signal: AbortSignal.abort('user left') }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SeqcastError);
    expect(error).toMatchObject({ code: 'aborted', message: 'publish to r1 was aborted: user left' });
    expect(seen).toHaveLength(0);
  });

  it('stops retrying when aborted during the backoff wait', async () => {
    replies = [unavailable('30'), accepted];
    const controller = new AbortController();
    const pending = client().publish('r1', 1, { signal: controller.signal }).catch((e: unknown) => e);
    // The first answer (503, Retry-After 30 s) has arrived once the server saw the request.
    const deadline = Date.now() + 5000;
    while (seen.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort();
    await expect(pending).resolves.toMatchObject({ code: 'aborted' });
    expect(seen).toHaveLength(1);
  });

  it('aborts a request in flight instead of counting it as a network error to retry', async () => {
    let hold: ServerResponse | undefined;
    replies = [(res) => (hold = res), accepted];
    const controller = new AbortController();
    const pending = client().publish('r1', 1, { signal: controller.signal }).catch((e: unknown) => e);
    const deadline = Date.now() + 5000;
    while (hold === undefined && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort();
    await expect(pending).resolves.toMatchObject({ code: 'aborted' });
    expect(seen).toHaveLength(1);
    hold?.destroy();
  });

  it('calls the global fetch unbound, as browsers require (window.fetch with another this throws)', async () => {
    const realFetch = globalThis.fetch;
    globalThis.fetch = function (this: unknown, input: RequestInfo | URL, init?: RequestInit) {
      if (this !== undefined && this !== globalThis) throw new TypeError("Failed to execute 'fetch' on 'Window': Illegal invocation");
      return realFetch(input, init);
    } as typeof fetch;
    try {
      replies = [accepted];
      await expect(client().publish('r1', 1)).resolves.toMatchObject({ roomId: 'r1', offset: 1187 });
    } finally {
      globalThis.fetch = realFetch;
    }
  });

  it('calls the token function for every attempt', async () => {
    let n = 0;
    replies = [unavailable(), accepted];
    await client({ token: async () => `tok-${++n}` }).publish('r1', 1);
    expect(seen.map((s) => s.authorization)).toEqual(['Bearer tok-1', 'Bearer tok-2']);
  });
});

describe('parseRetryAfter', () => {
  it('reads delay-seconds and HTTP dates, ignores junk', () => {
    const now = Date.parse('2026-11-28T08:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('Sat, 28 Nov 2026 08:00:02 GMT', now)).toBe(2000);
    expect(parseRetryAfter('Sat, 28 Nov 2026 07:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });
});
