import type { ExecutionContext } from '@nestjs/common';
import { ApiKeyAuthenticator, type ApiKeyRecord, AuthError, generateApiKey, signToken, TokenVerifier } from '@seqcast/auth';
import { type AuthenticatedRequest, BearerAuthGuard } from './bearer-auth.guard';

const SECRET = 'guard-spec-secret';
const apiKey = generateApiKey();
const keyGrants = { publish: ['feed:*'], subscribe: [], history: [] };
const keys = new Map<string, ApiKeyRecord>([[apiKey.keyHash, { id: 'k1', name: 'billing', grants: keyGrants, revokedAt: null }]]);
const guard = new BearerAuthGuard(
  TokenVerifier.withSecret(SECRET),
  new ApiKeyAuthenticator({ findByHash: async (hash) => keys.get(hash) }, { cacheTtlMs: 1000 }),
);

function requestWith(headers: AuthenticatedRequest['headers']): AuthenticatedRequest {
  return { headers };
}

function activate(request: AuthenticatedRequest): Promise<boolean> {
  const context = { switchToHttp: () => ({ getRequest: () => request }) };
  return guard.canActivate(context as unknown as ExecutionContext);
}

async function rejection(headers: AuthenticatedRequest['headers']): Promise<AuthError> {
  const request = requestWith(headers);
  const error = await activate(request).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(request.principal).toBeUndefined();
  expect(error).toBeInstanceOf(AuthError);
  return error as AuthError;
}

describe('BearerAuthGuard', () => {
  it('puts the verified principal of a bearer token on the request', async () => {
    const request = requestWith({ authorization: `Bearer ${signToken({ sub: 'alice', rooms: ['team-1:*'] }, SECRET)}` });
    await expect(activate(request)).resolves.toBe(true);
    expect(request.principal).toMatchObject({ userId: 'alice', kind: 'token', grants: { publish: ['team-1:*'] } });
  });

  it('puts the principal of an API key on the request', async () => {
    const request = requestWith({ 'x-api-key': apiKey.key });
    await expect(activate(request)).resolves.toBe(true);
    expect(request.principal).toEqual({ userId: 'apikey:billing', kind: 'api_key', grants: keyGrants });
  });

  it('rejects a request without credentials', async () => {
    expect((await rejection({})).message).toBe('missing bearer token');
    await rejection({ authorization: '' });
    await rejection({ authorization: `Basic ${Buffer.from('alice:pw').toString('base64')}` });
  });

  it('rejects unknown, malformed or repeated API keys, and both credentials at once', async () => {
    expect((await rejection({ 'x-api-key': generateApiKey().key })).message).toBe('invalid API key');
    expect((await rejection({ 'x-api-key': 'hunter2' })).message).toBe('invalid API key');
    expect((await rejection({ 'x-api-key': [apiKey.key, apiKey.key] })).message).toBe('missing API key');
    const token = signToken({ sub: 'alice', rooms: ['*'] }, SECRET);
    expect((await rejection({ authorization: `Bearer ${token}`, 'x-api-key': apiKey.key })).message).toMatch(/not both/);
  });

  it('rejects a token signed with another secret, and an expired one', async () => {
    await rejection({ authorization: `Bearer ${signToken({ sub: 'alice', rooms: ['*'] }, 'someone-elses-secret')}` });
    const expired = signToken({ sub: 'alice', rooms: ['*'], expiresInSeconds: -60 }, SECRET);
    expect((await rejection({ authorization: `Bearer ${expired}` })).message).toBe('token expired');
  });

  it('never echoes the credential in the error', async () => {
    const emptySub = signToken({ sub: '', rooms: [] }, SECRET);
    for (const headers of [{ authorization: `Bearer ${emptySub}` }, { authorization: 'Bearer not.a.jwt' }, { 'x-api-key': `${apiKey.key}x` }]) {
      const error = await rejection(headers);
      expect(error.message).not.toContain(Object.values(headers)[0].split(' ').pop());
    }
  });
});
