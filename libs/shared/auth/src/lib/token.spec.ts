import { SignJWT } from 'jose';
import { AuthError } from './auth-error';
import { bearerToken, signToken, TokenVerifier } from './token';

const SECRET = 'unit-test-secret';
const SECRET_KEY = new TextEncoder().encode(SECRET);
const verifier = TokenVerifier.withSecret(SECRET, { tokenCacheSize: 0 });
const nowSeconds = (): number => Math.floor(Date.now() / 1000);

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

async function hs(claims: Record<string, unknown>, alg = 'HS256'): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg }).sign(SECRET_KEY);
}

async function expectAuthError(
  token: string | undefined,
  message: string | RegExp,
  using: TokenVerifier = verifier,
): Promise<void> {
  const thrown = await using.verify(token).then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(thrown).toBeInstanceOf(AuthError);
  expect((thrown as AuthError).code).toBe('unauthorized');
  expect((thrown as AuthError).message).toMatch(message);
}

describe('TokenVerifier (HS256 shared secret)', () => {
  it('round-trips a signed token into a principal with all three capabilities from `rooms`', async () => {
    const before = Date.now();
    const principal = await verifier.verify(signToken({ sub: 'alice', rooms: ['team-42:*', 'lobby'] }, SECRET));
    expect(principal.userId).toBe('alice');
    expect(principal.kind).toBe('token');
    expect(principal.grants).toEqual({
      publish: ['team-42:*', 'lobby'],
      subscribe: ['team-42:*', 'lobby'],
      history: ['team-42:*', 'lobby'],
    });
    // Default lifetime is one hour; exp has whole-second precision.
    expect(principal.expiresAt!.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 3600_000);
    expect(principal.expiresAt!.getTime()).toBeLessThanOrEqual(Date.now() + 3600_000);
  });

  it('reads separate publish / subscribe / history grants, adding them to `rooms`', async () => {
    const token = signToken(
      { sub: 'svc', rooms: ['lobby'], publish: ['feed:*'], subscribe: ['team-1:*'], history: [] },
      SECRET,
    );
    expect((await verifier.verify(token)).grants).toEqual({
      publish: ['lobby', 'feed:*'],
      subscribe: ['lobby', 'team-1:*'],
      history: ['lobby'],
    });
    const onlySubscribe = await verifier.verify(signToken({ sub: 'viewer', subscribe: ['team-1:*'] }, SECRET));
    expect(onlySubscribe.grants).toEqual({ publish: [], subscribe: ['team-1:*'], history: [] });
  });

  it('honours expiresInSeconds', async () => {
    const principal = await verifier.verify(signToken({ sub: 'a', rooms: [], expiresInSeconds: 60 }, SECRET));
    expect(principal.expiresAt!.getTime() - Date.now()).toBeLessThanOrEqual(60_000);
    expect(principal.expiresAt!.getTime() - Date.now()).toBeGreaterThan(55_000);
  });

  it('rejects a missing token', async () => {
    await expectAuthError(undefined, 'missing bearer token');
    await expectAuthError('', 'missing bearer token');
  });

  it('rejects an expired token beyond the clock-skew leeway, accepts one within it', async () => {
    await expectAuthError(signToken({ sub: 'a', rooms: [], expiresInSeconds: -40 }, SECRET), 'token expired');
    const strict = TokenVerifier.withSecret(SECRET, { clockToleranceSeconds: 0, tokenCacheSize: 0 });
    const justExpired = signToken({ sub: 'a', rooms: [], expiresInSeconds: -5 }, SECRET);
    await expectAuthError(justExpired, 'token expired', strict);
    await expect(verifier.verify(justExpired)).resolves.toMatchObject({ userId: 'a' });
  });

  it('rejects a token not yet valid', async () => {
    await expectAuthError(await hs({ sub: 'a', rooms: [], nbf: nowSeconds() + 120, exp: nowSeconds() + 600 }), 'token not yet valid');
  });

  it('rejects a token signed with another secret, or tampered with', async () => {
    await expectAuthError(signToken({ sub: 'a', rooms: ['*'] }, 'other-secret'), 'invalid token');
    const [header, , signature] = signToken({ sub: 'a', rooms: ['lobby'] }, SECRET).split('.');
    const forgedPayload = base64url({ sub: 'a', rooms: ['*'], exp: nowSeconds() + 60 });
    await expectAuthError(`${header}.${forgedPayload}.${signature}`, 'invalid token');
  });

  it('rejects garbage without leaking details', async () => {
    await expectAuthError('not-a-jwt', /^invalid token$/);
  });

  it('rejects alg=none', async () => {
    const unsigned = `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({
      sub: 'mallory',
      rooms: ['*'],
      exp: nowSeconds() + 60,
    })}.`;
    await expectAuthError(unsigned, /^invalid token$/);
  });

  it('rejects HS384 tokens signed with the right secret', async () => {
    await expectAuthError(await hs({ sub: 'a', rooms: [], exp: nowSeconds() + 60 }, 'HS384'), /^invalid token$/);
  });

  it.each([
    [{ rooms: ['x'] }, 'sub must be a non-empty string'],
    [{ sub: '', rooms: ['x'] }, 'sub must be a non-empty string'],
    [{ sub: 42, rooms: ['x'] }, 'sub must be a non-empty string'],
    [{ sub: 'a' }, 'rooms (or publish, subscribe, history) must be an array of strings'],
    [{ sub: 'a', rooms: 'x' }, 'rooms must be an array of strings'],
    [{ sub: 'a', rooms: ['x', 7] }, 'rooms must be an array of strings'],
    [{ sub: 'a', publish: 'x' }, 'publish must be an array of strings'],
    [{ sub: 'a', rooms: [], history: [1] }, 'history must be an array of strings'],
  ])('rejects bad claims %j', async (claims, problem) => {
    await expectAuthError(await hs({ ...claims, exp: nowSeconds() + 60 }), `invalid token claims: ${problem}`);
  });

  it('rejects a token without exp', async () => {
    await expectAuthError(await hs({ sub: 'a', rooms: [] }), 'invalid token claims: exp is required');
  });

  it('names every bad claim at once', async () => {
    await expectAuthError(await hs({}), /sub .*; rooms .*; exp is required/);
  });

  it('checks iss and aud when configured', async () => {
    const strict = TokenVerifier.withSecret(SECRET, { issuer: 'https://idp.example', audience: ['seqcast'], tokenCacheSize: 0 });
    const good = signToken({ sub: 'a', rooms: [], iss: 'https://idp.example', aud: ['other', 'seqcast'] }, SECRET);
    await expect(strict.verify(good)).resolves.toMatchObject({ userId: 'a' });
    await expectAuthError(signToken({ sub: 'a', rooms: [], iss: 'https://evil.example', aud: 'seqcast' }, SECRET), 'token issuer not accepted', strict);
    await expectAuthError(signToken({ sub: 'a', rooms: [], aud: 'seqcast' }, SECRET), 'token issuer not accepted', strict);
    await expectAuthError(signToken({ sub: 'a', rooms: [], iss: 'https://idp.example', aud: 'billing' }, SECRET), 'token audience not accepted', strict);
    // Not configured: not checked.
    await expect(verifier.verify(signToken({ sub: 'a', rooms: [], iss: 'anyone', aud: 'anything' }, SECRET))).resolves.toBeDefined();
  });

  it('refuses an empty secret', () => {
    expect(() => TokenVerifier.withSecret('')).toThrow('non-empty secret');
  });
});

describe('TokenVerifier cache', () => {
  it('verifies a token once while it is cached, and never serves it past its exp', async () => {
    let now = Date.now();
    const cached = TokenVerifier.withSecret(SECRET, { clockToleranceSeconds: 0, now: () => now });
    const token = signToken({ sub: 'alice', rooms: ['lobby'], expiresInSeconds: 2 }, SECRET);
    const first = await cached.verify(token);
    // The same object back is the cache answering: a fresh verification builds a new principal.
    expect(await cached.verify(token)).toBe(first);
    now = first.expiresAt!.getTime() + 1;
    await expectAuthError(token, 'token expired', cached);
  });

  it('does not cache failures, and a tampered token is never served from the cache of the original', async () => {
    const cached = TokenVerifier.withSecret(SECRET);
    const token = signToken({ sub: 'alice', rooms: ['lobby'] }, SECRET);
    await cached.verify(token);
    await expectAuthError(`${token.slice(0, -2)}xx`, 'invalid token', cached);
  });

  it('stays bounded', async () => {
    const small = TokenVerifier.withSecret(SECRET, { tokenCacheSize: 2 });
    const tokens = ['a', 'b', 'c'].map((sub) => signToken({ sub, rooms: [] }, SECRET));
    const principals = [];
    for (const token of tokens) principals.push(await small.verify(token));
    // 'a' was evicted (least recently used): verified again, so a different object.
    expect(await small.verify(tokens[0])).not.toBe(principals[0]);
    expect(await small.verify(tokens[2])).toBe(principals[2]);
  });
});

describe('bearerToken', () => {
  it.each([
    ['Bearer abc.def.ghi', 'abc.def.ghi'],
    ['bearer abc', 'abc'],
    ['Bearer   abc  ', 'abc'],
  ])('reads %p', (header, token) => {
    expect(bearerToken(header)).toBe(token);
  });

  it.each([undefined, '', 'Bearer', 'Bearer ', 'Basic abc', 'abc', 'Bearer a b', 'XBearer abc'])(
    'returns undefined for %p',
    (header) => {
      expect(bearerToken(header)).toBeUndefined();
    },
  );
});
