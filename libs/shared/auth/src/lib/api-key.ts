/**
 * API keys for backend publishers. A key is `sck_` + 32 random bytes (base64url): 256 bits of
 * entropy, so a plain SHA-256 of it is enough at rest. Slow, salted hashes (bcrypt, argon2)
 * exist to make guessing *low-entropy* passwords expensive; nobody can enumerate 2^256 keys, and a
 * fast hash lets the lookup be an indexed equality on the hash instead of a bcrypt compare (~50 ms
 * of CPU) on every publish.
 */
import { createHash, randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { AuthError } from './auth-error';
import type { Grants, Principal } from './principal';

export const API_KEY_PREFIX = 'sck_';
const API_KEY_PATTERN = /^sck_[A-Za-z0-9_-]{43}$/;

/** What the store keeps of a key (never the key itself). */
export interface ApiKeyRecord {
  id: string;
  name: string;
  grants: Grants;
  revokedAt: Date | null;
}

/** Where keys live (PostgreSQL in production: ApiKeyRepository in @seqcast/persistence). */
export interface ApiKeyStore {
  findByHash(keyHash: string): Promise<ApiKeyRecord | undefined>;
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** A new random key, its hash (what is stored) and a short prefix that identifies it in listings. */
export function generateApiKey(): { key: string; keyHash: string; displayPrefix: string } {
  const key = `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { key, keyHash: hashApiKey(key), displayPrefix: key.slice(0, 12) };
}

export interface ApiKeyAuthenticatorOptions {
  /** How long a lookup (found, revoked or unknown) is reused: the bound on how late a revocation bites. */
  cacheTtlMs: number;
  /** Distinct keys remembered. */
  cacheSize?: number;
  /** Milliseconds clock for the cache (tests). */
  now?: () => number;
}

type Lookup = { principal: Principal } | { rejected: string };

/**
 * Authenticates API keys against the store with a short, bounded cache, so publishing does not
 * cost a database round trip per request. A revoked key keeps working on an instance for at most
 * `cacheTtlMs` after the revocation. Unknown keys are cached too (by hash), so garbage keys cannot
 * turn into a query per request.
 */
export class ApiKeyAuthenticator {
  private readonly cache: LRUCache<string, Lookup>;
  private readonly inFlight = new Map<string, Promise<Lookup>>();

  constructor(
    private readonly store: ApiKeyStore,
    options: ApiKeyAuthenticatorOptions,
  ) {
    this.cache = new LRUCache<string, Lookup>({
      max: options.cacheSize ?? 10_000,
      ttl: Math.max(1, options.cacheTtlMs),
      ...(options.now ? { perf: { now: options.now }, ttlResolution: 0 } : {}),
    });
  }

  async authenticate(key: string | undefined): Promise<Principal> {
    if (!key) throw new AuthError('missing API key');
    if (!API_KEY_PATTERN.test(key)) throw new AuthError('invalid API key');
    const keyHash = hashApiKey(key);
    let lookup = this.cache.get(keyHash);
    if (!lookup) {
      // Concurrent first requests with one key share a single query.
      let pending = this.inFlight.get(keyHash);
      if (!pending) {
        pending = this.lookup(keyHash).finally(() => this.inFlight.delete(keyHash));
        this.inFlight.set(keyHash, pending);
      }
      lookup = await pending;
    }
    if ('rejected' in lookup) throw new AuthError(lookup.rejected);
    return lookup.principal;
  }

  private async lookup(keyHash: string): Promise<Lookup> {
    const record = await this.store.findByHash(keyHash);
    const lookup: Lookup = !record
      ? { rejected: 'invalid API key' }
      : record.revokedAt
        ? { rejected: 'API key revoked' }
        : { principal: { userId: `apikey:${record.name}`, kind: 'api_key', grants: record.grants } };
    this.cache.set(keyHash, lookup);
    return lookup;
  }
}
