import { hash } from 'node:crypto';

/**
 * A short digest of a JSON payload that ignores object key order, so ingest (hashing the request
 * body) and the ordering worker (hashing the record it read back) agree on the same value, and a
 * client that re-serialises its retry with keys in another order is still sending "the same
 * payload". 128 bits of SHA-256, base64url: it only has to tell one sender's payloads apart.
 *
 * Both services compute it for every message, so it is written for speed; the digests stored by
 * earlier versions stay valid (pinned in the spec).
 */
export function payloadFingerprint(payload: unknown): string {
  return digest128(canonicalJson(payload));
}

/** Nesting deeper than this takes the replacer, which has no recursion of our own. */
const MAX_COPY_DEPTH = 64;
/** sortedCopy's answer for a value it leaves to the replacer. */
const UNSORTED = Symbol('unsorted');

/**
 * JSON.stringify(value) with every object's keys in sorted order. A replacer function does that
 * for any value, but takes JSON.stringify off V8's fast path (about half of the old fingerprint's
 * time), so plain JSON data is first copied with its keys sorted, objects already in order kept
 * as they are (no copy at all for a payload that is canonical already).
 */
function canonicalJson(value: unknown): string {
  const copy = sortedCopy(value, 0);
  return (copy === UNSORTED ? JSON.stringify(value, sortKeys) : JSON.stringify(copy)) ?? 'undefined';
}

function sortKeys(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const source = value as Record<string, unknown>;
  return Object.fromEntries(
    Object.keys(source)
      .sort()
      .map((key) => [key, source[key]]),
  );
}

/**
 * `value` with every object's keys sorted, sharing whatever is already in order; UNSORTED for
 * what only the replacer reproduces exactly: deep nesting, functions, objects that are not plain
 * (toJSON, prototypes) and a `__proto__` key (an assignment would set the prototype instead).
 * Integer-like keys need nothing special: an object lists them first in numeric order whichever
 * order they are assigned in, as the replacer's Object.fromEntries does.
 */
function sortedCopy(value: unknown, depth: number): unknown {
  if (typeof value === 'function') return UNSORTED;
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_COPY_DEPTH) return UNSORTED;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const sorted = sortedCopy(item, depth + 1);
      if (sorted === UNSORTED) return UNSORTED;
      if (sorted !== item) {
        copy ??= value.slice();
        copy[i] = sorted;
      }
    }
    return copy ?? value;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return UNSORTED;
  const source = value as Record<string, unknown>;
  const keys = Object.keys(source);
  let inOrder = true;
  let changed = false;
  const values: unknown[] = new Array(keys.length);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    if (key === '__proto__') return UNSORTED;
    if (i > 0 && !((keys[i - 1] as string) < key)) inOrder = false;
    const item = source[key];
    const sorted = sortedCopy(item, depth + 1);
    if (sorted === UNSORTED) return UNSORTED;
    if (sorted !== item) changed = true;
    values[i] = sorted;
  }
  if (inOrder && !changed) return value;
  const order = keys.map((_, i) => i);
  if (!inOrder) order.sort((a, b) => ((keys[a] as string) < (keys[b] as string) ? -1 : 1));
  const copy: Record<string, unknown> = {};
  for (const i of order) copy[keys[i] as string] = values[i];
  return copy;
}

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * The first 16 bytes of SHA-256, base64url (22 characters). Asking node for the digest as a string
 * avoids two Buffers per call (they cost more than the hash itself): the 16 bytes' encoding is the
 * full digest's first 21 characters, then a 22nd that keeps only the top two bits of the full
 * encoding's 22nd (its other four bits belong to byte 17).
 */
function digest128(text: string): string {
  const full = hash('sha256', text, 'base64url');
  return full.slice(0, 21) + (BASE64URL[BASE64URL.indexOf(full.charAt(21)) & 0x30] as string);
}
