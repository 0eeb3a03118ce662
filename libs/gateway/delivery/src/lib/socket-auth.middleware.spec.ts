import { signToken, TokenVerifier } from '@seqcast/auth';
import { type HandshakingSocket, socketAuthMiddleware } from './socket-auth.middleware';

const SECRET = 'unit-test-secret';

function handshake(auth: Record<string, unknown> | undefined): HandshakingSocket {
  return { handshake: { auth }, data: {} };
}

describe('socketAuthMiddleware', () => {
  const rejected: string[] = [];
  const middleware = socketAuthMiddleware(TokenVerifier.withSecret(SECRET), (reason) => rejected.push(reason));

  /** Runs the (asynchronous) middleware; resolves with what it passed to next. */
  function run(socket: HandshakingSocket): Promise<Error | undefined> {
    return new Promise((resolve) => middleware(socket, resolve));
  }

  it('admits a valid token and remembers who it speaks for', async () => {
    const socket = handshake({ token: signToken({ sub: 'alice', rooms: ['team-*'] }, SECRET) });
    expect(await run(socket)).toBeUndefined();
    expect(socket.data.principal).toMatchObject({ userId: 'alice', grants: { subscribe: ['team-*'] } });
  });

  it.each([
    ['no auth at all', undefined],
    ['no token', {}],
    ['a non-string token', { token: 42 }],
    ['garbage', { token: 'not-a-jwt' }],
    ['a token signed with another secret', { token: signToken({ sub: 'alice', rooms: ['*'] }, 'other-secret') }],
    ['an expired token', { token: signToken({ sub: 'alice', rooms: ['*'], expiresInSeconds: -60 }, SECRET) }],
  ])('rejects %s with exactly "unauthorized"', async (_case, auth) => {
    const socket = handshake(auth);
    const error = await run(socket);
    expect(error).toBeInstanceOf(Error);
    expect(error?.message).toBe('unauthorized');
    expect(socket.data.principal).toBeUndefined();
  });

  it('logs why a handshake was rejected', async () => {
    rejected.length = 0;
    await run(handshake({ token: signToken({ sub: 'a', rooms: [], expiresInSeconds: -60 }, SECRET) }));
    expect(rejected).toEqual(['token expired']);
  });
});
