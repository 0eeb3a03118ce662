import { generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { AuthError } from './auth-error';
import { bearerToken, signToken, TokenVerifier } from './token';

const SECRET = 'unit-test-secret';
const verifier = new TokenVerifier(SECRET);

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function expectAuthError(token: string | undefined, message: string | RegExp): void {
  let thrown: unknown;
  try {
    verifier.verify(token);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(AuthError);
  expect((thrown as AuthError).code).toBe('unauthorized');
  expect((thrown as AuthError).message).toMatch(message);
}

describe('TokenVerifier', () => {
  it('round-trips a signed token into a principal', () => {
    const before = Date.now();
    const principal = verifier.verify(signToken({ sub: 'alice', rooms: ['team-42:*', 'lobby'] }, SECRET));
    expect(principal.userId).toBe('alice');
    expect(principal.roomPatterns).toEqual(['team-42:*', 'lobby']);
    // Default lifetime is one hour; exp has whole-second precision.
    expect(principal.expiresAt.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 3600_000);
    expect(principal.expiresAt.getTime()).toBeLessThanOrEqual(Date.now() + 3600_000);
  });

  it('honours expiresInSeconds', () => {
    const principal = verifier.verify(signToken({ sub: 'a', rooms: [], expiresInSeconds: 60 }, SECRET));
    expect(principal.expiresAt.getTime() - Date.now()).toBeLessThanOrEqual(60_000);
    expect(principal.expiresAt.getTime() - Date.now()).toBeGreaterThan(55_000);
  });

  it('rejects a missing token', () => {
    expectAuthError(undefined, 'missing bearer token');
    expectAuthError('', 'missing bearer token');
  });

  it('rejects an expired token', () => {
    const expired = jwt.sign({ sub: 'a', rooms: [], exp: Math.floor(Date.now() / 1000) - 10 }, SECRET);
    expectAuthError(expired, 'token expired');
  });

  it('rejects a token signed with another secret, or tampered with', () => {
    expectAuthError(signToken({ sub: 'a', rooms: ['*'] }, 'other-secret'), 'invalid token');
    const [header, , signature] = signToken({ sub: 'a', rooms: ['lobby'] }, SECRET).split('.');
    const forgedPayload = base64url({ sub: 'a', rooms: ['*'], exp: Math.floor(Date.now() / 1000) + 60 });
    expectAuthError(`${header}.${forgedPayload}.${signature}`, 'invalid token');
  });

  it('rejects garbage without leaking details', () => {
    expectAuthError('not-a-jwt', /^invalid token$/);
  });

  it('rejects alg=none', () => {
    const unsigned = `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({
      sub: 'mallory',
      rooms: ['*'],
      exp: Math.floor(Date.now() / 1000) + 60,
    })}.`;
    expectAuthError(unsigned, 'invalid token');
  });

  it('rejects RS256 tokens even when validly signed', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rs = jwt.sign({ sub: 'a', rooms: ['*'] }, privateKey, { algorithm: 'RS256', expiresIn: 60 });
    expectAuthError(rs, 'invalid token');
  });

  it('rejects HS384 tokens signed with the right secret', () => {
    expectAuthError(jwt.sign({ sub: 'a', rooms: [] }, SECRET, { algorithm: 'HS384', expiresIn: 60 }), 'invalid token');
  });

  it.each([
    [{ rooms: ['x'] }, 'sub must be a non-empty string'],
    [{ sub: '', rooms: ['x'] }, 'sub must be a non-empty string'],
    [{ sub: 42, rooms: ['x'] }, 'sub must be a non-empty string'],
    [{ sub: 'a' }, 'rooms must be an array of strings'],
    [{ sub: 'a', rooms: 'x' }, 'rooms must be an array of strings'],
    [{ sub: 'a', rooms: ['x', 7] }, 'rooms must be an array of strings'],
  ])('rejects bad claims %j', (claims, problem) => {
    expectAuthError(jwt.sign(claims, SECRET, { expiresIn: 60 }), `invalid token claims: ${problem}`);
  });

  it('rejects a token without exp', () => {
    expectAuthError(jwt.sign({ sub: 'a', rooms: [] }, SECRET), 'invalid token claims: exp is required');
  });

  it('names every bad claim at once', () => {
    expectAuthError(jwt.sign({}, SECRET, { noTimestamp: true }), /sub .*; rooms .*; exp is required/);
  });

  it('refuses an empty secret', () => {
    expect(() => new TokenVerifier('')).toThrow('non-empty secret');
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
