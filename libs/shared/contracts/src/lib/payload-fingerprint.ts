import { hash } from 'node:crypto';

/**
 * A short digest of a JSON payload that ignores object key order, so ingest (hashing the request
 * body) and the ordering worker (hashing the record it read back) agree on the same value, and a
 * client that re-serialises its retry with keys in another order is still sending "the same
 * payload". 128 bits of SHA-256, base64url: it only has to tell one sender's payloads apart.
 *
 * JSON.stringify does the walk (no recursion of our own, so deep nesting costs no more than the
 * record encoding does); the replacer rebuilds each object with its keys sorted. Ingest pays this on
 * every publish, so the cheap forms are used: the one-shot `crypto.hash` (no Hash object per call)
 * and no rebuild for an object whose keys are already in sorted order (the usual case) — both give
 * exactly the bytes and the digest the plain form gives.
 */
export function payloadFingerprint(payload: unknown): string {
  const canonical = JSON.stringify(payload, sortKeys) ?? 'undefined';
  return hash('sha256', canonical, 'buffer').subarray(0, 16).toString('base64url');
}

function sortKeys(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const source = value as Record<string, unknown>;
  const keys = Object.keys(source);
  // Already sorted: the rebuilt object would list the same keys in the same order (integer-like
  // keys come first in ascending order in both), so it would serialise identically.
  if (isSorted(keys)) return value;
  return Object.fromEntries(keys.sort().map((key) => [key, source[key]]));
}

function isSorted(keys: string[]): boolean {
  for (let i = 1; i < keys.length; i++) if (keys[i - 1] > keys[i]) return false;
  return true;
}
