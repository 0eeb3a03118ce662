import { signToken, TokenVerifier } from '@seqcast/auth';
import { type HandshakingSocket, socketAuthMiddleware } from './socket-auth.middleware';

const SECRET = 'unit-test-secret';

function handshake(auth: Record<string, unknown> | undefined): { socket: HandshakingSocket; next: jest.Mock } {
  return { socket: { handshake: { auth }, data: {} }, next: jest.fn() };
}

describe('socketAuthMiddleware', () => {
  const rejected: string[] = [];
  const middleware = socketAuthMiddleware(new TokenVerifier(SECRET), (reason) => rejected.push(reason));

  it('admits a valid token and remembers who it speaks for', () => {
    const { socket, next } = handshake({ token: signToken({ sub: 'alice', rooms: ['team-*'] }, SECRET) });
    middleware(socket, next);
    expect(next).toHaveBeenCalledWith();
    expect(socket.data.principal).toMatchObject({ userId: 'alice', roomPatterns: ['team-*'] });
  });

  it.each([
    ['no auth at all', undefined],
    ['no token', {}],
    ['a non-string token', { token: 42 }],
    ['garbage', { token: 'not-a-jwt' }],
    ['a token signed with another secret', { token: signToken({ sub: 'alice', rooms: ['*'] }, 'other-secret') }],
    ['an expired token', { token: signToken({ sub: 'alice', rooms: ['*'], expiresInSeconds: -10 }, SECRET) }],
  ])('rejects %s with exactly "unauthorized"', (_case, auth) => {
    const { socket, next } = handshake(auth);
    middleware(socket, next);
    expect(next).toHaveBeenCalledTimes(1);
    const error = next.mock.calls[0][0] as Error;
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toBe('unauthorized');
    expect(socket.data.principal).toBeUndefined();
  });

  it('logs why a handshake was rejected', () => {
    rejected.length = 0;
    const { socket, next } = handshake({ token: signToken({ sub: 'a', rooms: [], expiresInSeconds: -10 }, SECRET) });
    middleware(socket, next);
    expect(rejected).toEqual(['token expired']);
  });
});
