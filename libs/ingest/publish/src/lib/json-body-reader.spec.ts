import { Readable } from 'node:stream';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { charsetOf, readJsonBody } from './json-body-reader';
import { RequestBodyError } from './request-body-error';

const LIMIT = 1024;
const options = { limit: LIMIT, maxDepth: 4 };

function read(body: Buffer | string, headers: Record<string, string> = {}): Promise<unknown> {
  const bytes = Buffer.from(body);
  return readJsonBody({ 'content-type': 'application/json', ...headers }, Readable.from([bytes]), options);
}

/** The RequestBodyError a read fails with, as `{ type, status, message }` (and `limit` when set). */
async function failure(body: Buffer | string, headers: Record<string, string> = {}): Promise<object> {
  const error = await read(body, headers).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RequestBodyError);
  const { type, status, message, limit } = error as RequestBodyError;
  return { type, status, message, ...(limit === undefined ? {} : { limit }) };
}

describe('readJsonBody', () => {
  const json = '{"clientMsgId":"a","payload":[1,{"x":"é"}]}';
  const parsed = { clientMsgId: 'a', payload: [1, { x: 'é' }] };

  it('parses identity, gzip, deflate and br bodies (any case of the encoding name)', async () => {
    await expect(read(json)).resolves.toEqual(parsed);
    await expect(read(json, { 'content-encoding': 'identity' })).resolves.toEqual(parsed);
    await expect(read(gzipSync(json), { 'content-encoding': 'gzip' })).resolves.toEqual(parsed);
    await expect(read(gzipSync(json), { 'content-encoding': 'GZIP' })).resolves.toEqual(parsed);
    await expect(read(deflateSync(json), { 'content-encoding': 'deflate' })).resolves.toEqual(parsed);
    await expect(read(brotliCompressSync(json), { 'content-encoding': 'br' })).resolves.toEqual(parsed);
  });

  it('reads an empty body as {} and drops a UTF-8 byte order mark, as body-parser did', async () => {
    await expect(read('')).resolves.toEqual({});
    await expect(read(`\uFEFF${json}`)).resolves.toEqual(parsed);
  });

  it('counts the limit on decoded bytes: a small gzip that inflates past it is 413', async () => {
    const bomb = gzipSync(`{"a":"${'x'.repeat(LIMIT * 10)}"}`);
    expect(bomb.length).toBeLessThan(LIMIT);
    await expect(failure(bomb, { 'content-encoding': 'gzip' })).resolves.toEqual({
      type: 'entity.too.large',
      status: 413,
      message: 'request entity too large',
      limit: LIMIT,
    });
    // Exactly the limit passes.
    const exact = `{"a":"${'x'.repeat(LIMIT - 8)}"}`;
    expect(Buffer.byteLength(exact)).toBe(LIMIT);
    await expect(read(gzipSync(exact), { 'content-encoding': 'gzip' })).resolves.toEqual({ a: 'x'.repeat(LIMIT - 8) });
  });

  it('refuses a declared Content-Length over the limit before reading, and an undeclared one as it streams', async () => {
    const never = new Readable({
      read() {
        throw new Error('the body must not be read');
      },
    });
    const early = await readJsonBody(
      { 'content-type': 'application/json', 'content-length': String(LIMIT + 1) },
      never,
      options,
    ).catch((e: unknown) => e);
    expect(early).toMatchObject({ type: 'entity.too.large', status: 413, limit: LIMIT });
    await expect(failure(`{"a":"${'x'.repeat(LIMIT)}"}`)).resolves.toMatchObject({ type: 'entity.too.large' });
  });

  it('answers encodings and charsets it does not take with 415, before reading', async () => {
    await expect(failure(json, { 'content-encoding': 'compress' })).resolves.toEqual({
      type: 'encoding.unsupported',
      status: 415,
      message: 'unsupported content encoding "compress"',
    });
    await expect(failure(json, { 'content-encoding': 'gzip, gzip' })).resolves.toMatchObject({ status: 415 });
    await expect(failure(json, { 'content-type': 'application/json; charset=latin1' })).resolves.toEqual({
      type: 'charset.unsupported',
      status: 415,
      message: 'unsupported charset "latin1": request bodies must be UTF-8',
    });
    await expect(read(json, { 'content-type': 'application/json; charset="UTF-8"' })).resolves.toEqual(parsed);
    await expect(read(json, { 'content-type': 'application/json;charset=utf8' })).resolves.toEqual(parsed);
  });

  it('answers a body that is not what its Content-Encoding says with encoding.invalid (400)', async () => {
    await expect(failure(json, { 'content-encoding': 'gzip' })).resolves.toMatchObject({
      type: 'encoding.invalid',
      status: 400,
      message: expect.stringContaining('could not be decoded as its Content-Encoding says'),
    });
  });

  it('refuses invalid JSON, a top-level value that is not an object or array, bad UTF-8, lone surrogates and depth', async () => {
    await expect(failure('{"a":')).resolves.toMatchObject({ type: 'entity.parse.failed', status: 400 });
    for (const primitive of ['"text"', '1', 'null', ' true']) {
      await expect(failure(primitive)).resolves.toMatchObject({
        type: 'entity.parse.failed',
        status: 400,
        message: expect.stringContaining(`Unexpected token '${primitive.trim()[0]}'`),
      });
    }
    await expect(read('[1]')).resolves.toEqual([1]);
    await expect(failure(Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d]))).resolves.toMatchObject({
      type: 'entity.invalid.utf8',
      message: 'request body is not valid UTF-8',
    });
    await expect(failure('{"a":"\\ud800"}')).resolves.toMatchObject({ type: 'entity.invalid.utf8', status: 400 });
    await expect(failure('{"a":[[[[1]]]]}')).resolves.toMatchObject({ type: 'entity.too.deep', status: 400 });
    await expect(read('{"a":[[[1]]]}')).resolves.toEqual({ a: [[[1]]] });
  });
});

describe('charsetOf', () => {
  it('reads the charset parameter, quoted or not, lower-cased', () => {
    expect(charsetOf('application/json')).toBeUndefined();
    expect(charsetOf(undefined)).toBeUndefined();
    expect(charsetOf('application/json; charset=UTF-8')).toBe('utf-8');
    expect(charsetOf('application/json; foo=bar; Charset="Latin1"')).toBe('latin1');
  });
});
