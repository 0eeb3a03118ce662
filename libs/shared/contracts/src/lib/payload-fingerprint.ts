import { createHash } from 'node:crypto';

/**
 * A short digest of a JSON payload that ignores object key order, so ingest (hashing the request
 * body) and the ordering worker (hashing the record it read back) agree on the same value, and a
 * client that re-serialises its retry with keys in another order is still sending "the same
 * payload". 128 bits of SHA-256, base64url: it only has to tell one sender's payloads apart.
 *
 * JSON.stringify does the walk (no recursion of our own, so deep nesting costs no more than the
 * record encoding does); the replacer rebuilds each object with its keys sorted.
 */
export function payloadFingerprint(payload: unknown): string {
  const canonical = JSON.stringify(payload, sortKeys) ?? 'undefined';
  return createHash('sha256').update(canonical).digest().subarray(0, 16).toString('base64url');
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
