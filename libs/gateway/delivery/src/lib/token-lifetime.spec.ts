import { signToken, TokenVerifier } from '@seqcast/auth';
import type { GatewaySocketData } from './socket-types';
import { type LifetimeSocket, type SubscriptionControl, TokenLifetime } from './token-lifetime';

const SECRET = 'lifetime-spec-secret';
const LEAD_MS = 10_000;

class FakeSocket implements LifetimeSocket {
  readonly events: [string, unknown][] = [];
  connected = true;
  data: GatewaySocketData = {};

  constructor(readonly id: string) {}

  emit(event: string, payload: unknown): boolean {
    this.events.push([event, payload]);
    return true;
  }

  disconnect(): void {
    this.connected = false;
  }

  names(): string[] {
    return this.events.map(([name]) => name);
  }
}

function setup(rooms: string[] = []) {
  const ended: string[] = [];
  const subscribed = new Set(rooms);
  const control: SubscriptionControl = {
    roomsOf: () => [...subscribed],
    end: (_socket, roomId) => {
      ended.push(roomId);
      subscribed.delete(roomId);
    },
  };
  const verifier = TokenVerifier.withSecret(SECRET, { clockToleranceSeconds: 0, now: () => Date.now() });
  const lifetime = new TokenLifetime(verifier, control, { leadMs: LEAD_MS });
  return { lifetime, verifier, ended, subscribed };
}

async function connected(verifier: TokenVerifier, lifetime: TokenLifetime, token: string): Promise<FakeSocket> {
  const socket = new FakeSocket('s1');
  socket.data.principal = await verifier.verify(token);
  lifetime.track(socket);
  return socket;
}

describe('TokenLifetime', () => {
  // On a whole second: exp has second precision.
  beforeEach(() => jest.useFakeTimers({ now: Math.ceil(Date.now() / 1000) * 1000 }));
  afterEach(() => jest.useRealTimers());

  it('warns LEAD_MS before exp, then sends token_expired and disconnects at exp', async () => {
    const { lifetime, verifier } = setup();
    const socket = await connected(
      verifier,
      lifetime,
      signToken({ sub: 'alice', rooms: ['*'], expiresInSeconds: 30 }, SECRET),
    );
    const expiresAt = socket.data.principal!.expiresAt!;

    jest.advanceTimersByTime(30_000 - LEAD_MS - 1);
    expect(socket.events).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(socket.events).toEqual([['token_expiring', { expiresAt: expiresAt.toISOString() }]]);

    jest.advanceTimersByTime(LEAD_MS - 1);
    expect(socket.connected).toBe(true);
    jest.advanceTimersByTime(1);
    expect(socket.events[1]).toEqual(['token_expired', { expiredAt: expiresAt.toISOString() }]);
    expect(socket.connected).toBe(false);
    expect(socket.data.closeReason).toBe('token_expired');
    expect(lifetime.trackedSockets).toBe(0);
  });

  it('warns at once when the token is already inside the lead window', async () => {
    const { lifetime, verifier } = setup();
    const socket = await connected(
      verifier,
      lifetime,
      signToken({ sub: 'alice', rooms: ['*'], expiresInSeconds: 5 }, SECRET),
    );
    expect(socket.names()).toEqual(['token_expiring']);
  });

  it('moves the deadline on a refresh, and warns again for the new token', async () => {
    const { lifetime, verifier } = setup();
    const socket = await connected(
      verifier,
      lifetime,
      signToken({ sub: 'alice', rooms: ['*'], expiresInSeconds: 20 }, SECRET),
    );
    jest.advanceTimersByTime(15_000);
    const fresh = signToken({ sub: 'alice', rooms: ['*'], expiresInSeconds: 60 }, SECRET);
    const ack = await lifetime.refresh(socket, { token: fresh });
    expect(ack).toEqual({ ok: true, expiresAt: new Date(Date.now() + 60_000).toISOString(), revokedRooms: [] });

    jest.advanceTimersByTime(10_000); // past the old exp
    expect(socket.connected).toBe(true);
    expect(socket.names()).toEqual(['token_expiring']);
    jest.advanceTimersByTime(40_000); // new exp - LEAD_MS
    expect(socket.names()).toEqual(['token_expiring', 'token_expiring']);
    jest.advanceTimersByTime(10_000);
    expect(socket.connected).toBe(false);
  });

  it('does not warn again when the refresh carries the same deadline', async () => {
    const { lifetime, verifier } = setup();
    const token = signToken({ sub: 'alice', rooms: ['*'], expiresInSeconds: 5 }, SECRET);
    const socket = await connected(verifier, lifetime, token);
    expect(await lifetime.refresh(socket, { token })).toMatchObject({ ok: true });
    expect(socket.names()).toEqual(['token_expiring']);
    jest.advanceTimersByTime(5_000);
    expect(socket.names()).toEqual(['token_expiring', 'token_expired']);
  });

  it('ends subscriptions the refreshed token no longer grants, with a reason', async () => {
    const { lifetime, verifier, ended, subscribed } = setup(['team-1:a', 'team-2:b', 'lobby']);
    const socket = await connected(verifier, lifetime, signToken({ sub: 'alice', rooms: ['team-*', 'lobby'] }, SECRET));
    const narrower = signToken({ sub: 'alice', subscribe: ['team-1:*'], publish: ['lobby'] }, SECRET);
    const ack = await lifetime.refresh(socket, { token: narrower });
    expect(ack).toMatchObject({ ok: true, revokedRooms: ['team-2:b', 'lobby'] });
    expect(ended).toEqual(['team-2:b', 'lobby']);
    expect([...subscribed]).toEqual(['team-1:a']);
    expect(socket.events).toEqual([
      ['unsubscribed', { roomId: 'team-2:b', reason: 'access_revoked' }],
      ['unsubscribed', { roomId: 'lobby', reason: 'access_revoked' }],
    ]);
    expect(socket.data.principal?.grants.subscribe).toEqual(['team-1:*']);
  });

  it.each([
    ['a malformed request', { jwt: 'x' }, 'invalid_request'],
    [
      'an expired token',
      { token: signToken({ sub: 'alice', rooms: ['*'], expiresInSeconds: -1 }, SECRET) },
      'unauthorized',
    ],
    ['a forged token', { token: signToken({ sub: 'alice', rooms: ['*'] }, 'not-the-secret') }, 'unauthorized'],
    ["another user's token", { token: signToken({ sub: 'mallory', rooms: ['*'] }, SECRET) }, 'unauthorized'],
  ])('refuses %s and keeps the old deadline', async (_case, body, code) => {
    const { lifetime, verifier } = setup();
    const socket = await connected(
      verifier,
      lifetime,
      signToken({ sub: 'alice', rooms: ['lobby'], expiresInSeconds: 30 }, SECRET),
    );
    const before = socket.data.principal;
    const ack = await lifetime.refresh(socket, body);
    expect(ack).toMatchObject({ ok: false, error: { code } });
    expect(socket.data.principal).toBe(before);
    jest.advanceTimersByTime(30_000);
    expect(socket.connected).toBe(false);
  });

  it('treats a principal at or past exp as expired even before the timer fires', () => {
    const { lifetime } = setup();
    const grants = { publish: [], subscribe: ['*'], history: [] };
    expect(lifetime.expired({ userId: 'a', kind: 'token', grants, expiresAt: new Date(Date.now()) })).toBe(true);
    expect(lifetime.expired({ userId: 'a', kind: 'token', grants, expiresAt: new Date(Date.now() + 1) })).toBe(false);
    expect(lifetime.expired(undefined)).toBe(true);
  });

  it('keeps one timer for all sockets and still serves each deadline on time, in order', async () => {
    const { lifetime, verifier } = setup();
    const sockets: FakeSocket[] = [];
    for (const seconds of [40, 25, 60, 25, 32]) {
      const socket = new FakeSocket(`s${sockets.length}`);
      // A user per socket: tokens differ, so the verifier's cache adds no timers of its own.
      const token = signToken({ sub: `user-${sockets.length}`, rooms: ['*'], expiresInSeconds: seconds }, SECRET);
      socket.data.principal = await verifier.verify(token);
      lifetime.track(socket);
      sockets.push(socket);
    }
    expect(jest.getTimerCount()).toBe(1);
    const expiredAfter = (ms: number) => {
      jest.advanceTimersByTime(ms);
      return sockets.filter((s) => !s.connected).map((s) => s.id);
    };
    expect(expiredAfter(25_000 - 1)).toEqual([]);
    expect(sockets.map((s) => s.names().length)).toEqual([0, 1, 0, 1, 1]); // warned at exp - LEAD_MS
    expect(expiredAfter(1)).toEqual(['s1', 's3']);
    expect(expiredAfter(7_000)).toEqual(['s1', 's3', 's4']);
    expect(expiredAfter(8_000)).toEqual(['s0', 's1', 's3', 's4']);
    expect(expiredAfter(20_000)).toEqual(['s0', 's1', 's2', 's3', 's4']);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('does not pile up entries for sockets that come and go under a long-lived token', async () => {
    const { lifetime, verifier } = setup();
    const principal = await verifier.verify(signToken({ sub: 'alice', rooms: ['*'], expiresInSeconds: 3600 }, SECRET));
    const stay = new FakeSocket('stay');
    stay.data.principal = principal;
    lifetime.track(stay);
    for (let i = 0; i < 1_000; i++) {
      const socket = new FakeSocket(`churn-${i}`);
      socket.data.principal = principal;
      lifetime.track(socket);
      lifetime.forget(socket.id);
    }
    // The queue stays within a constant of the live sockets (internal, but it is the point here).
    expect((lifetime as unknown as { queue: { length: number } }).queue.length).toBeLessThan(100);
    jest.advanceTimersByTime(3_600_000);
    expect(stay.names()).toEqual(['token_expiring', 'token_expired']);
  });

  it('forgets a socket that went away', async () => {
    const { lifetime, verifier } = setup();
    const socket = await connected(
      verifier,
      lifetime,
      signToken({ sub: 'alice', rooms: ['*'], expiresInSeconds: 30 }, SECRET),
    );
    lifetime.forget(socket.id);
    jest.advanceTimersByTime(60_000);
    expect(socket.events).toEqual([]);
    expect(lifetime.trackedSockets).toBe(0);
  });
});
