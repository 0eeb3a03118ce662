/**
 * Bad input gets a 4xx with the error envelope, never a 500: the bodies that used to crash the API
 * (deep nesting, a body that is not what its Content-Encoding says), bytes that are not UTF-8, and
 * a property-based fuzz (fast-check) of random and mutated requests against the real service on
 * the real broker and database. Fixed seed in CI; FUZZ_RUNS=100000 (and FUZZ_SEED) for a long run.
 */
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { createKafka, ensureTopics, type Kafka } from '@seqcast/kafka';
import { type DataSource, openDatabase } from '@seqcast/persistence';
import { createTestDatabase, type TestDatabase, testKafkaBrokers, uniqueTopics } from '@seqcast/testing';
import fc from 'fast-check';
import { ALICE_TOKEN, type RunningIngestService, startIngestService } from '../testing';
import { MAX_JSON_DEPTH } from './json-body-guard';

const FUZZ_RUNS = Number(process.env['FUZZ_RUNS'] ?? 150);
const FUZZ_SEED = Number(process.env['FUZZ_SEED'] ?? 20261206);

const KNOWN_CODES = [
  'invalid_request',
  'unauthorized',
  'forbidden',
  'not_found',
  'payload_too_large',
  'unsupported_media_type',
  'rate_limited',
  'unavailable',
];

interface RawReply {
  status: number;
  body: unknown;
}

async function send(
  baseUrl: string,
  request: { method?: string; path?: string; headers?: Record<string, string>; body?: Uint8Array | string },
): Promise<RawReply> {
  const response = await fetch(`${baseUrl}${request.path ?? '/v1/rooms/lobby/messages'}`, {
    method: request.method ?? 'POST',
    headers: { authorization: `Bearer ${ALICE_TOKEN}`, 'content-type': 'application/json', ...request.headers },
    body: request.body,
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // left as text: the assertion then shows what came back
  }
  return { status: response.status, body };
}

function expectEnvelope(reply: RawReply): void {
  expect(reply.body).toEqual({ error: { code: expect.any(String), message: expect.any(String) } });
  expect(KNOWN_CODES).toContain((reply.body as { error: { code: string } }).error.code);
}

describe('ingest-api refuses bad input with a 4xx (real Kafka and PostgreSQL)', () => {
  const { messagesTopic } = uniqueTopics('ingest-hardening');
  let database: TestDatabase;
  let dataSource: DataSource;
  let kafka: Kafka;
  let service: RunningIngestService;
  const valid = (id: string) => JSON.stringify({ clientMsgId: id, payload: { text: 'hello', n: [1, 2, { x: null }] } });

  beforeAll(async () => {
    database = await createTestDatabase();
    dataSource = await openDatabase({ url: database.url, runMigrations: true });
    kafka = createKafka({ brokers: testKafkaBrokers(), clientId: 'ingest-hardening-int' });
    await ensureTopics(kafka, [{ name: messagesTopic, partitions: 3 }]);
    service = await startIngestService({ kafka, dataSource, messagesTopic, partitions: 3 });
  });

  afterAll(async () => {
    await service?.close();
    await dataSource?.destroy();
    await database?.drop();
  });

  it('answers 10,000 nested arrays (20 KB, under the size limit) with 400 naming the depth limit', async () => {
    const nested = '['.repeat(10_000) + ']'.repeat(10_000);
    const reply = await send(service.baseUrl, { body: `{"clientMsgId":"deep-1","payload":${nested}}` });
    expect(reply.status).toBe(400);
    expectEnvelope(reply);
    expect(JSON.stringify(reply.body)).toContain(`limit of ${MAX_JSON_DEPTH} levels`);
  });

  it('accepts nesting up to the limit', async () => {
    const depth = MAX_JSON_DEPTH - 1; // the body object is level 1
    const payload = '['.repeat(depth) + ']'.repeat(depth);
    const reply = await send(service.baseUrl, { body: `{"clientMsgId":"deep-ok","payload":${payload}}` });
    expect(reply.status).toBe(202);
  });

  it('answers Content-Encoding: gzip on a body that is not gzip with 400', async () => {
    const reply = await send(service.baseUrl, { headers: { 'content-encoding': 'gzip' }, body: valid('gz-bad') });
    expect(reply.status).toBe(400);
    expectEnvelope(reply);
    expect(JSON.stringify(reply.body)).toContain('Content-Encoding');
  });

  it('decodes real gzip and deflate bodies', async () => {
    const gzip = await send(service.baseUrl, {
      headers: { 'content-encoding': 'gzip' },
      body: gzipSync(valid('gz-1')),
    });
    expect(gzip.status).toBe(202);
    const deflate = await send(service.baseUrl, {
      headers: { 'content-encoding': 'deflate' },
      body: deflateSync(valid('df-1')),
    });
    expect(deflate.status).toBe(202);
  });

  it('decodes br bodies, and counts the size limit on the decoded bytes', async () => {
    const br = await send(service.baseUrl, { headers: { 'content-encoding': 'br' }, body: brotliCompressSync(valid('br-1')) });
    expect(br.status).toBe(202);
    // 100 KB of spaces gzip to ~100 bytes: the default 64 KiB limit applies to what they inflate to.
    const bomb = gzipSync(Buffer.from(`{"clientMsgId":"bomb-1","payload":1${' '.repeat(100_000)}}`));
    expect(bomb.length).toBeLessThan(1_000);
    const reply = await send(service.baseUrl, { headers: { 'content-encoding': 'gzip' }, body: bomb });
    expect(reply.status).toBe(413);
    expect(reply.body).toEqual({
      error: { code: 'payload_too_large', message: 'request body exceeds the limit of 65536 bytes' },
    });
  });

  it('answers a body without a JSON Content-Type (or none at all) with 400, not 415', async () => {
    const expected = {
      error: {
        code: 'invalid_request',
        message: 'request body must be a JSON object sent with Content-Type: application/json',
      },
    };
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'application/merge-patch+json']) {
      const reply = await send(service.baseUrl, { headers: { 'content-type': contentType }, body: valid('ct-1') });
      expect({ contentType, ...reply }).toEqual({ contentType, status: 400, body: expected });
    }
    const none = await fetch(`${service.baseUrl}/v1/rooms/lobby/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ALICE_TOKEN}` },
      body: new Blob([valid('ct-2')]), // a Blob without a type: fetch sends no Content-Type
    });
    expect(none.headers.get('content-type')).toMatch(/^application\/json/);
    expect({ status: none.status, body: await none.json() }).toEqual({ status: 400, body: expected });
  });

  it('answers a URL the router cannot decode with 400 in the envelope, with a request id', async () => {
    const response = await fetch(`${service.baseUrl}/%ff`, { headers: { 'x-request-id': 'bad-url-1' } });
    expect(response.status).toBe(400);
    expect(response.headers.get('x-request-id')).toBe('bad-url-1');
    expect(await response.json()).toEqual({ error: { code: 'invalid_request', message: expect.any(String) } });
  });

  it('routes a 128-character room id and a trailing slash as Express did', async () => {
    const room = `team-1:${'r'.repeat(121)}`;
    expect(room).toHaveLength(128);
    const long = await send(service.baseUrl, { path: `/v1/rooms/${room}/messages`, body: valid('long-room-1') });
    expect(long.status).toBe(202);
    const slash = await send(service.baseUrl, { path: '/v1/rooms/lobby/messages/', body: valid('slash-1') });
    expect(slash.status).toBe(202);
  });

  it('answers an unknown Content-Encoding or a non-UTF-8 charset with 415', async () => {
    const encoding = await send(service.baseUrl, { headers: { 'content-encoding': 'compress' }, body: valid('x-1') });
    expect(encoding.status).toBe(415);
    expect(encoding.body).toMatchObject({ error: { code: 'unsupported_media_type' } });
    const charset = await send(service.baseUrl, {
      headers: { 'content-type': 'application/json; charset=utf-16le' },
      body: Buffer.from(valid('x-2'), 'utf16le'),
    });
    expect(charset.status).toBe(415);
    expect(charset.body).toMatchObject({ error: { code: 'unsupported_media_type' } });
  });

  it('refuses invalid UTF-8 bytes and lone-surrogate escapes in JSON strings with 400', async () => {
    const bytes = Buffer.concat([
      Buffer.from('{"clientMsgId":"u-1","payload":"a'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('"}'),
    ]);
    const invalid = await send(service.baseUrl, { body: bytes });
    expect(invalid.status).toBe(400);
    expect(JSON.stringify(invalid.body)).toContain('UTF-8');
    const surrogate = await send(service.baseUrl, { body: '{"clientMsgId":"u-2","payload":"\\ud800"}' });
    expect(surrogate.status).toBe(400);
    expectEnvelope(surrogate);
  });

  it('never answers random or mutated requests with a 5xx, and always with the error envelope', async () => {
    const validBody = fc
      .record({ clientMsgId: fc.stringMatching(/^[A-Za-z0-9._:-]{1,64}$/), payload: fc.jsonValue({ maxDepth: 4 }) })
      .map((body) => JSON.stringify(body));
    const mutated = fc
      .tuple(validBody, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean()), { maxLength: 6 }))
      .map(([text, edits]) => {
        const bytes = [...Buffer.from(text)];
        for (const [at, byte, insert] of edits) {
          const index = at % (bytes.length + 1);
          if (insert) bytes.splice(index, 0, byte);
          else bytes[index] = byte;
        }
        return Uint8Array.from(bytes);
      });
    const body = fc.oneof(
      validBody,
      mutated,
      fc.uint8Array({ maxLength: 512 }),
      fc.json({ maxDepth: 6 }),
      fc.nat({ max: 300 }).map((depth) => `{"clientMsgId":"d","payload":${'['.repeat(depth)}${']'.repeat(depth)}}`),
      fc
        .array(
          fc.record({
            roomId: fc.constantFrom('lobby', 'team-1:a', 'nope', ''),
            clientMsgId: fc.string(),
            payload: fc.jsonValue({ maxDepth: 2 }),
          }),
          { maxLength: 4 },
        )
        .map((messages) => JSON.stringify({ messages })),
    );
    const request = fc.record({
      method: fc.constantFrom('POST', 'POST', 'GET', 'PUT', 'DELETE'),
      path: fc.oneof(
        fc.constantFrom(
          '/v1/rooms/lobby/messages',
          '/v1/messages/batch',
          '/v1/rooms/team-1:x/messages?afterSeq=-1&limit=5',
        ),
        fc.string({ maxLength: 40 }).map((room) => `/v1/rooms/${encodeURIComponent(room)}/messages`),
        fc.string({ maxLength: 40 }).map((tail) => `/v1/rooms/lobby/messages?${tail.replace(/[#\s]/g, '')}`),
        fc.constantFrom('/v1/rooms/%E0%A4%A/messages', '/v1/rooms/%/messages', '/%ff', '/v1//messages'),
      ),
      contentType: fc.constantFrom(
        'application/json',
        'application/json; charset=utf-8',
        'text/plain',
        'application/json; charset=latin1',
        'application/x-www-form-urlencoded',
      ),
      contentEncoding: fc.constantFrom(
        undefined,
        'identity',
        'gzip',
        'deflate',
        'br',
        'compress',
        'GZIP',
        'gzip, gzip',
      ),
      token: fc.constantFrom<string | undefined>(ALICE_TOKEN, undefined, 'not.a.jwt', `${ALICE_TOKEN}x`),
      body,
    });

    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const headers: Record<string, string> = { 'content-type': r.contentType };
        if (r.contentEncoding) headers['content-encoding'] = r.contentEncoding;
        if (r.token) headers['authorization'] = `Bearer ${r.token}`;
        else headers['authorization'] = '';
        const hasBody = r.method !== 'GET';
        const reply = await send(service.baseUrl, {
          method: r.method,
          path: r.path,
          headers,
          body: hasBody ? r.body : undefined,
        });
        expect(reply.status).toBeLessThan(500);
        if (reply.status >= 400) expectEnvelope(reply);
      }),
      { numRuns: FUZZ_RUNS, seed: FUZZ_SEED },
    );
    // And the process is still there and answering.
    expect((await fetch(`${service.baseUrl}/healthz`)).status).toBe(200);
  });
});
