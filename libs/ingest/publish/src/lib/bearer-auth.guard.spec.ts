import type { ExecutionContext } from '@nestjs/common';
import { AuthError, signToken, TokenVerifier } from '@seqcast/auth';
import jwt from 'jsonwebtoken';
import { type AuthenticatedRequest, BearerAuthGuard } from './bearer-auth.guard';

const SECRET = 'guard-spec-secret';
const guard = new BearerAuthGuard(new TokenVerifier(SECRET));

function requestWith(authorization: string | undefined): AuthenticatedRequest {
  return { headers: authorization === undefined ? {} : { authorization } };
}

function activate(request: AuthenticatedRequest): boolean {
  const context = { switchToHttp: () => ({ getRequest: () => request }) };
  return guard.canActivate(context as unknown as ExecutionContext);
}

function rejection(authorization: string | undefined): AuthError {
  const request = requestWith(authorization);
  try {
    activate(request);
  } catch (error) {
    expect(request.principal).toBeUndefined();
    expect(error).toBeInstanceOf(AuthError);
    return error as AuthError;
  }
  throw new Error(`expected ${authorization} to be rejected`);
}

describe('BearerAuthGuard', () => {
  it('puts the verified principal on the request', () => {
    const request = requestWith(`Bearer ${signToken({ sub: 'alice', rooms: ['team-1:*'] }, SECRET)}`);
    expect(activate(request)).toBe(true);
    expect(request.principal).toMatchObject({ userId: 'alice', roomPatterns: ['team-1:*'] });
  });

  it('rejects a request without a bearer token', () => {
    rejection(undefined);
    rejection('');
    rejection(`Basic ${Buffer.from('alice:pw').toString('base64')}`);
  });

  it('rejects a token signed with another secret', () => {
    rejection(`Bearer ${signToken({ sub: 'alice', rooms: ['*'] }, 'someone-elses-secret')}`);
  });

  it('rejects an expired token', () => {
    const expired = jwt.sign({ sub: 'alice', rooms: ['*'], exp: Math.floor(Date.now() / 1000) - 60 }, SECRET);
    rejection(`Bearer ${expired}`);
  });

  it('rejects tokens with bad claims and garbage', () => {
    const noRooms = jwt.sign({ sub: 'alice' }, SECRET, { expiresIn: 60 });
    const emptySub = jwt.sign({ sub: '', rooms: [] }, SECRET, { expiresIn: 60 });
    for (const token of [noRooms, emptySub, 'not.a.jwt', 'Bearer']) {
      const error = rejection(`Bearer ${token}`);
      expect(error.message).not.toContain(token.length > 10 ? token : '\u0000');
    }
  });
});
