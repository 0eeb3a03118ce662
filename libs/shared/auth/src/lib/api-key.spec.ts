import { ApiKeyAuthenticator, type ApiKeyRecord, type ApiKeyStore, generateApiKey, hashApiKey } from './api-key';
import { AuthError } from './auth-error';

/** An in-memory store that counts lookups (the real one is PostgreSQL; see the ingest integration tests). */
class MemoryStore implements ApiKeyStore {
  readonly records = new Map<string, ApiKeyRecord>();
  lookups = 0;

  async findByHash(keyHash: string): Promise<ApiKeyRecord | undefined> {
    this.lookups++;
    return this.records.get(keyHash);
  }
}

const grants = { publish: ['feed:*'], subscribe: [], history: ['feed:*'] };

async function rejection(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AuthError);
  return (error as AuthError).message;
}

describe('generateApiKey', () => {
  it('makes a 256-bit random key whose SHA-256 is what gets stored', () => {
    const { key, keyHash, displayPrefix } = generateApiKey();
    expect(key).toMatch(/^sck_[A-Za-z0-9_-]{43}$/);
    expect(keyHash).toBe(hashApiKey(key));
    expect(keyHash).toMatch(/^[0-9a-f]{64}$/);
    expect(key.startsWith(displayPrefix)).toBe(true);
    expect(generateApiKey().key).not.toBe(key);
  });
});

describe('ApiKeyAuthenticator', () => {
  let store: MemoryStore;
  let now: number;
  let auth: ApiKeyAuthenticator;
  let key: string;

  beforeEach(() => {
    store = new MemoryStore();
    now = 1_000_000;
    auth = new ApiKeyAuthenticator(store, { cacheTtlMs: 30_000, now: () => now });
    const generated = generateApiKey();
    key = generated.key;
    store.records.set(generated.keyHash, { id: 'id-1', name: 'billing', grants, revokedAt: null });
  });

  it('turns a stored key into an api_key principal that cannot pose as a user', async () => {
    await expect(auth.authenticate(key)).resolves.toEqual({ userId: 'apikey:billing', kind: 'api_key', grants });
  });

  it('asks the store once per TTL, however many requests use the key', async () => {
    await Promise.all([auth.authenticate(key), auth.authenticate(key), auth.authenticate(key)]);
    await auth.authenticate(key);
    expect(store.lookups).toBe(1);
    now += 30_001;
    await auth.authenticate(key);
    expect(store.lookups).toBe(2);
  });

  it('stops accepting a revoked key once the cached lookup expires', async () => {
    await auth.authenticate(key);
    store.records.get(hashApiKey(key))!.revokedAt = new Date();
    await expect(auth.authenticate(key)).resolves.toBeDefined(); // still within the TTL
    now += 30_001;
    expect(await rejection(auth.authenticate(key))).toBe('API key revoked');
  });

  it('rejects unknown keys, caching the miss so garbage does not become a query per request', async () => {
    const unknown = generateApiKey().key;
    expect(await rejection(auth.authenticate(unknown))).toBe('invalid API key');
    expect(await rejection(auth.authenticate(unknown))).toBe('invalid API key');
    expect(store.lookups).toBe(1);
  });

  it('rejects malformed and missing keys without asking the store', async () => {
    expect(await rejection(auth.authenticate(undefined))).toBe('missing API key');
    expect(await rejection(auth.authenticate('sck_short'))).toBe('invalid API key');
    expect(await rejection(auth.authenticate(`${key}x`))).toBe('invalid API key');
    expect(store.lookups).toBe(0);
  });
});
