/**
 * Asymmetric keys: every supported algorithm from a PEM key and from a JWKS served over real HTTP
 * by the test, including a key rotation. Keys are generated here with jose, so nothing is canned.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, type KeyLike, SignJWT } from 'jose';
import { AuthError } from './auth-error';
import { TokenVerifier } from './token';

const ALGORITHMS = ['RS256', 'ES256', 'EdDSA'] as const;
type Alg = (typeof ALGORITHMS)[number];

async function keyPair(alg: Alg): Promise<{ publicKey: KeyLike; privateKey: KeyLike }> {
  return generateKeyPair(alg, alg === 'EdDSA' ? { crv: 'Ed25519' } : {});
}

async function sign(privateKey: KeyLike, alg: string, claims: Record<string, unknown> = {}, kid?: string): Promise<string> {
  return new SignJWT({ rooms: ['lobby'], ...claims })
    .setProtectedHeader({ alg, ...(kid ? { kid } : {}) })
    .setSubject('alice')
    .setExpirationTime('5m')
    .sign(privateKey);
}

async function rejection(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AuthError);
  return (error as AuthError).message;
}

describe.each(ALGORITHMS)('%s from a PEM public key', (alg) => {
  let verifier: TokenVerifier;
  let privateKey: KeyLike;

  beforeAll(async () => {
    const pair = await keyPair(alg);
    privateKey = pair.privateKey;
    verifier = new TokenVerifier({ keySource: { kind: 'pem', file: 'test.pem', pem: await exportSPKI(pair.publicKey), algorithms: [alg] }, tokenCacheSize: 0 });
  });

  it('accepts a token signed with the matching private key', async () => {
    await expect(verifier.verify(await sign(privateKey, alg))).resolves.toMatchObject({ userId: 'alice' });
  });

  it('rejects a token signed with another key of the same type', async () => {
    const other = await keyPair(alg);
    expect(await rejection(verifier.verify(await sign(other.privateKey, alg)))).toBe('invalid token');
  });

  it('rejects an HS256 token whose secret is the public key (algorithm confusion)', async () => {
    const publicPem = (verifier as unknown as { key: { export(o: object): string } }).key.export({ type: 'spki', format: 'pem' });
    const confused = await new SignJWT({ rooms: ['*'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('mallory')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(publicPem));
    expect(await rejection(verifier.verify(confused))).toBe('invalid token');
  });
});

describe('JWKS from a URL', () => {
  let server: Server;
  let url: string;
  let keys: object[] = [];
  let fetches = 0;

  beforeAll(async () => {
    server = createServer((_req, res) => {
      fetches++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys }));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  });

  afterAll(async () => {
    server.close();
    await once(server, 'close');
  });

  async function publicJwk(publicKey: KeyLike, kid: string, alg: Alg): Promise<object> {
    return { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  }

  it('verifies every algorithm by kid, fetching the set once', async () => {
    const pairs = await Promise.all(ALGORITHMS.map((alg) => keyPair(alg)));
    keys = await Promise.all(ALGORITHMS.map((alg, i) => publicJwk(pairs[i].publicKey, `k-${alg}`, alg)));
    fetches = 0;
    const verifier = new TokenVerifier({ keySource: { kind: 'jwks', url, algorithms: [...ALGORITHMS] }, tokenCacheSize: 0 });
    for (const [i, alg] of ALGORITHMS.entries()) {
      await expect(verifier.verify(await sign(pairs[i].privateKey, alg, {}, `k-${alg}`))).resolves.toMatchObject({
        userId: 'alice',
      });
    }
    expect(fetches).toBe(1);
  });

  it('refuses an algorithm outside SEQCAST_JWT_ALGORITHMS even when the JWKS has its key', async () => {
    const pair = await keyPair('ES256');
    keys = [await publicJwk(pair.publicKey, 'es', 'ES256')];
    const rsOnly = new TokenVerifier({ keySource: { kind: 'jwks', url, algorithms: ['RS256'] }, tokenCacheSize: 0 });
    expect(await rejection(rsOnly.verify(await sign(pair.privateKey, 'ES256', {}, 'es')))).toBe('invalid token');
  });

  it('follows a key rotation: a token with a new kid makes it refetch the set', async () => {
    const oldKey = await keyPair('RS256');
    const newKey = await keyPair('RS256');
    keys = [await publicJwk(oldKey.publicKey, 'old', 'RS256')];
    const verifier = new TokenVerifier({
      keySource: { kind: 'jwks', url, algorithms: ['RS256'] },
      tokenCacheSize: 0,
      jwks: { cooldownMs: 0 },
    });
    await expect(verifier.verify(await sign(oldKey.privateKey, 'RS256', {}, 'old'))).resolves.toBeDefined();

    // The identity provider publishes the new key and retires the old one.
    keys = [await publicJwk(newKey.publicKey, 'new', 'RS256')];
    fetches = 0;
    await expect(verifier.verify(await sign(newKey.privateKey, 'RS256', {}, 'new'))).resolves.toMatchObject({
      userId: 'alice',
    });
    expect(fetches).toBe(1);
    // After the refetch the retired key is gone: its tokens no longer verify.
    expect(await rejection(verifier.verify(await sign(oldKey.privateKey, 'RS256', {}, 'old')))).toBe('invalid token');
  });

  it('says "signing keys unavailable" when the JWKS cannot be fetched', async () => {
    const pair = await keyPair('RS256');
    const down = new TokenVerifier({
      keySource: { kind: 'jwks', url: 'http://127.0.0.1:1/jwks.json', algorithms: ['RS256'] },
      tokenCacheSize: 0,
    });
    expect(await rejection(down.verify(await sign(pair.privateKey, 'RS256', {}, 'x')))).toBe('signing keys unavailable');
  });
});
