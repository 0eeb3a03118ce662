/**
 * The ingest API's request body reader (Fastify's content-type parser for `application/json`), with
 * the rules docs/protocol.md states and body-parser's `json()` applied under Express:
 *
 * - `Content-Encoding` gzip, deflate or br is decoded (identity or none: as is); the size limit
 *   counts the decoded bytes, so no decompression bomb gets past it; any other encoding is 415.
 * - a charset other than UTF-8 is 415; bytes that are not UTF-8, nesting deeper than the limit and
 *   lone-surrogate escapes are 400 (json-body-guard.ts); invalid JSON is 400, and so is a top-level
 *   value that is not an object or array (body-parser's `strict`); an empty body reads as `{}`.
 *
 * Failures are RequestBodyErrors with body-parser's `type`s, which HttpErrorFilter maps to the wire.
 */
import type { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import {
  BodyErrorType,
  hasOnlyWellFormedStrings,
  malformedUnicodeError,
  verifyJsonBody,
} from './json-body-guard';
import { RequestBodyError } from './request-body-error';

export interface JsonBodyReaderOptions {
  /** Decoded bytes allowed (INGEST_MAX_BODY_BYTES). */
  limit: number;
  maxDepth: number;
}

type Headers = Record<string, string | string[] | undefined>;

const CHARSET = /;\s*charset\s*=\s*(?:"([^"]*)"|([^;\s]*))/i;
const BOM = 0xfeff;

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The declared charset, lower-cased, or undefined (UTF-8 is assumed). */
export function charsetOf(contentType: string | undefined): string | undefined {
  const match = contentType === undefined ? null : CHARSET.exec(contentType);
  const charset = match?.[1] ?? match?.[2];
  return charset ? charset.toLowerCase() : undefined;
}

function decoderFor(encoding: string): NodeJS.ReadWriteStream | undefined {
  switch (encoding) {
    case 'gzip':
      return createGunzip();
    case 'deflate':
      return createInflate();
    case 'br':
      return createBrotliDecompress();
    default:
      return undefined;
  }
}

function tooLarge(limit: number): RequestBodyError {
  return new RequestBodyError('entity.too.large', 413, 'request entity too large', limit);
}

/** Reads, decodes, checks and parses one request body; rejects with a RequestBodyError. */
export function readJsonBody(headers: Headers, payload: Readable, options: JsonBodyReaderOptions): Promise<unknown> {
  const charset = charsetOf(header(headers, 'content-type'));
  const verify = verifyJsonBody(options.maxDepth);
  return new Promise((resolve, reject) => {
    // Charset before encoding, as body-parser: neither reads a byte of a body refused for it.
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
      reject(
        new RequestBodyError(
          BodyErrorType.CharsetUnsupported,
          415,
          `unsupported charset "${charset}": request bodies must be UTF-8`,
        ),
      );
      return;
    }
    const encoding = (header(headers, 'content-encoding') ?? 'identity').toLowerCase();
    let source: Readable | NodeJS.ReadWriteStream = payload;
    if (encoding === 'identity') {
      const declared = Number(header(headers, 'content-length'));
      if (declared > options.limit) {
        reject(tooLarge(options.limit));
        return;
      }
    } else {
      const decoder = decoderFor(encoding);
      if (!decoder) {
        reject(new RequestBodyError('encoding.unsupported', 415, `unsupported content encoding "${encoding}"`));
        return;
      }
      source = payload.pipe(decoder);
    }

    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    const fail = (error: RequestBodyError) => {
      if (settled) return;
      settled = true;
      if (source !== payload) {
        payload.unpipe(source as NodeJS.WritableStream);
        (source as unknown as { destroy(): void }).destroy();
      }
      reject(error);
    };
    source.on('data', (chunk: Buffer) => {
      if (settled) return;
      received += chunk.length;
      if (received > options.limit) fail(tooLarge(options.limit));
      else chunks.push(chunk);
    });
    source.on('error', (error: Error) => {
      // The decoder's errors are a body that is not what its Content-Encoding says.
      fail(
        source === payload
          ? new RequestBodyError('request.aborted', 400, error.message)
          : new RequestBodyError(
              'encoding.invalid',
              400,
              `request body could not be decoded as its Content-Encoding says: ${error.message}`,
            ),
      );
    });
    if (source !== payload) payload.on('error', (error: Error) => fail(new RequestBodyError('request.aborted', 400, error.message)));
    source.on('end', () => {
      if (settled) return;
      settled = true;
      try {
        resolve(parseJsonBody(Buffer.concat(chunks, received), verify));
      } catch (error) {
        reject(error);
      }
    });
  });
}

function parseJsonBody(body: Buffer, verify: ReturnType<typeof verifyJsonBody>): unknown {
  verify(undefined, undefined, body, 'utf-8');
  let text = body.toString('utf8');
  if (text.charCodeAt(0) === BOM) text = text.slice(1);
  if (text.length === 0) return {}; // body-parser's special case: an empty JSON body is `{}`
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new RequestBodyError('entity.parse.failed', 400, error instanceof Error ? error.message : String(error));
  }
  if (typeof value !== 'object' || value === null) {
    // body-parser's `strict`: only objects and arrays, worded as JSON.parse would word it.
    const first = /^[\s]*(.)/.exec(text)?.[1] ?? '';
    throw new RequestBodyError(
      'entity.parse.failed',
      400,
      `Unexpected token '${first}', "${text.length > 10 ? `${text.slice(0, 10)}...` : text}" is not valid JSON`,
    );
  }
  if (!hasOnlyWellFormedStrings(value)) throw malformedUnicodeError();
  return value;
}
