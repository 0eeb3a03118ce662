/**
 * What the JSON parser must refuse before (or right after) JSON.parse sees a body: nesting deeper
 * than the API allows (a 20 KB body of 10,000 nested arrays parses, then overflows the stack of
 * whatever walks it next), bytes that are not UTF-8 (they would be silently replaced by U+FFFD and
 * the publisher's payload altered), and strings that are not well-formed Unicode (lone surrogates
 * from `\ud800` escapes: no UTF-8 encoding exists for them, so Kafka would get a replacement
 * character instead). Each failure is a RequestBodyError whose `type` the error filter maps to a 4xx.
 */
import { isUtf8 } from 'node:buffer';
import { RequestBodyError } from './request-body-error';

/**
 * Deepest nesting of arrays/objects a request body may have (the body object itself is level 1,
 * so a publish `payload` may nest 63 levels). Documented in docs/protocol.md.
 */
export const MAX_JSON_DEPTH = 64;

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Body-parser error types this module raises (mapped in HttpErrorFilter). */
export const BodyErrorType = {
  TooDeep: 'entity.too.deep',
  InvalidUtf8: 'entity.invalid.utf8',
  CharsetUnsupported: 'charset.unsupported',
} as const;

/**
 * Scans the raw bytes once: JSON's structural characters are ASCII and never occur inside a
 * multi-byte UTF-8 sequence, so tracking strings and escapes is enough to count depth exactly.
 * Malformed JSON is left for JSON.parse to report.
 */
export function jsonDepthExceeds(body: Uint8Array, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const byte = body[i];
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) {
      inString = true;
    } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      if (++depth > maxDepth) return true;
    } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}

/**
 * No lone surrogate. String.prototype.isWellFormed (native, no regex run) is not in the
 * workspace's ES2022 typings, hence the cast; Node >= 20 has it (package.json: >= 24.11).
 */
function isWellFormed(text: string): boolean {
  return (text as unknown as { isWellFormed(): boolean }).isWellFormed();
}

/**
 * True when the bytes are valid UTF-8 (overlong forms, surrogates and truncated sequences are not).
 * `buffer.isUtf8` validates in place; a fatal TextDecoder would build the whole string to say the same.
 */
export function isValidUtf8(body: Uint8Array): boolean {
  return isUtf8(body);
}

/**
 * The check on the decoded (inflated) bytes before JSON.parse (json-body-reader.ts; the shape of
 * body-parser's `verify` hook, which it was). `charset` is the request's declared charset.
 */
export function verifyJsonBody(maxDepth: number) {
  return (_request: unknown, _response: unknown, body: Buffer, charset: string | null | undefined): void => {
    if (charset && charset.toLowerCase() !== 'utf-8' && charset.toLowerCase() !== 'utf8') {
      throw new RequestBodyError(
        BodyErrorType.CharsetUnsupported,
        415,
        `unsupported charset "${charset}": request bodies must be UTF-8`,
      );
    }
    if (!isValidUtf8(body)) {
      throw new RequestBodyError(BodyErrorType.InvalidUtf8, 400, 'request body is not valid UTF-8');
    }
    if (jsonDepthExceeds(body, maxDepth)) {
      throw new RequestBodyError(
        BodyErrorType.TooDeep,
        400,
        `request body nests arrays/objects deeper than the limit of ${maxDepth} levels`,
      );
    }
  };
}

/**
 * Every string and key in a parsed body is well-formed Unicode. Iterative so that it cannot
 * overflow the stack whatever the depth (the depth check runs first anyway).
 */
export function hasOnlyWellFormedStrings(value: unknown): boolean {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    if (typeof next === 'string') {
      if (!isWellFormed(next)) return false;
    } else if (Array.isArray(next)) {
      for (const item of next) pending.push(item);
    } else if (typeof next === 'object' && next !== null) {
      for (const [key, item] of Object.entries(next)) {
        if (!isWellFormed(key)) return false;
        pending.push(item);
      }
    }
  }
  return true;
}

/** The error for a body whose JSON `\u` escapes encode lone surrogates. */
export function malformedUnicodeError(): RequestBodyError {
  return new RequestBodyError(
    BodyErrorType.InvalidUtf8,
    400,
    'request body contains a string that is not valid Unicode (a lone surrogate \\uD800-\\uDFFF escape)',
  );
}
