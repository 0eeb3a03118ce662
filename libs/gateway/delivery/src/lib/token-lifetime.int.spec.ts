/**
 * A socket outlives its token no longer (docs/protocol.md "Token lifetime"), against the real
 * broker and PostgreSQL through the gateway harness, with real socket.io-client sockets and
 * short-lived tokens.
 */
import { signToken } from '@seqcast/auth';
import type { MessagesEvent, RefreshAck, TokenExpiringEvent, UnsubscribedEvent } from '@seqcast/contracts';
import { TEST_JWT_SECRET, waitFor } from '@seqcast/testing';
import { type ClientSocket, connectError, GatewayHarness, room } from '../testing';

const LEAD_MS = 1_500;
let gw: GatewayHarness;

beforeAll(async () => {
  gw = await GatewayHarness.start({ tokenRefreshLeadMs: LEAD_MS });
});

afterAll(async () => {
  await gw?.stop();
});

interface Recorder {
  socket: ClientSocket;
  messages: MessagesEvent[];
  expiring: TokenExpiringEvent[];
  expired: unknown[];
  unsubscribed: UnsubscribedEvent[];
  disconnectReason?: string;
}

async function connectWith(token: string): Promise<Recorder> {
  const socket = gw.connect({ token });
  const recorder: Recorder = { socket, messages: [], expiring: [], expired: [], unsubscribed: [] };
  socket.on('messages', (event) => recorder.messages.push(event));
  socket.on('token_expiring', (event) => recorder.expiring.push(event));
  socket.on('token_expired', (event) => recorder.expired.push(event));
  socket.on('unsubscribed', (event) => recorder.unsubscribed.push(event));
  socket.on('disconnect', (reason) => (recorder.disconnectReason = reason));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  return recorder;
}

const seqs = (recorder: Recorder, roomId: string) =>
  recorder.messages.filter((e) => e.roomId === roomId).flatMap((e) => e.messages.map((m) => m.seq));

describe('token lifetime on a live socket', () => {
  it('warns ahead of exp, then sends token_expired and disconnects when no refresh arrives', async () => {
    const roomId = room('expiry');
    const token = signToken({ sub: 'alice', rooms: [roomId], expiresInSeconds: 4 }, TEST_JWT_SECRET);
    const exp = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).exp as number;
    const client = await connectWith(token);
    expect(await gw.subscribe(client.socket, { roomId })).toMatchObject({ ok: true });
    const [first] = await gw.commitAndPublish(roomId, 1);
    await waitFor(() => seqs(client, roomId).includes(first.seq), { what: 'the live message before exp' });

    await waitFor(() => client.expiring.length === 1, { timeoutMs: 10_000, what: 'token_expiring' });
    expect(client.expiring[0]).toEqual({ expiresAt: new Date(exp * 1000).toISOString() });
    expect(client.socket.connected).toBe(true);

    await waitFor(() => client.disconnectReason !== undefined, { timeoutMs: 10_000, what: 'the disconnect at exp' });
    expect(client.expired).toEqual([{ expiredAt: new Date(exp * 1000).toISOString() }]);
    expect(client.disconnectReason).toBe('io server disconnect');
    // Not before exp: the gateway's deadline is the token's.
    expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000);
  });

  it('keeps a refreshed socket, ends the rooms the new token no longer grants, and delivers the rest', async () => {
    const kept = room('kept');
    const dropped = room('dropped');
    const client = await connectWith(
      signToken({ sub: 'bob', rooms: [kept, dropped], expiresInSeconds: 5 }, TEST_JWT_SECRET),
    );
    expect(await gw.subscribe(client.socket, { roomId: kept })).toMatchObject({ ok: true });
    expect(await gw.subscribe(client.socket, { roomId: dropped })).toMatchObject({ ok: true });
    await waitFor(() => client.expiring.length === 1, { timeoutMs: 10_000, what: 'token_expiring' });

    const narrower = signToken({ sub: 'bob', subscribe: [kept], expiresInSeconds: 60 }, TEST_JWT_SECRET);
    const ack: RefreshAck = await client.socket.timeout(10_000).emitWithAck('refresh', { token: narrower });
    expect(ack).toEqual({ ok: true, expiresAt: expect.any(String), revokedRooms: [dropped] });
    await waitFor(() => client.unsubscribed.length === 1, { what: 'the unsubscribed event' });
    expect(client.unsubscribed).toEqual([{ roomId: dropped, reason: 'access_revoked' }]);

    // Past the old token's exp, the socket is still live on the room it kept.
    const oldExpiry = Date.parse(client.expiring[0].expiresAt);
    await waitFor(() => Date.now() > oldExpiry + 500 || undefined, { timeoutMs: 10_000, what: 'the old exp to pass' });
    expect(client.socket.connected).toBe(true);
    const [keptMessage] = await gw.commitAndPublish(kept, 1);
    const [droppedMessage] = await gw.commitAndPublish(dropped, 1);
    await waitFor(() => seqs(client, kept).includes(keptMessage.seq), { what: 'delivery on the kept room' });
    await gw.barrier(client.socket);
    expect(seqs(client, dropped)).not.toContain(droppedMessage.seq);
    expect(client.expired).toEqual([]);

    // And a subscribe to the room it lost is forbidden now.
    expect(await gw.subscribe(client.socket, { roomId: dropped })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  });

  it("refuses a refresh with another user's token and keeps the old deadline", async () => {
    const roomId = room('swap');
    const client = await connectWith(signToken({ sub: 'carol', rooms: [roomId], expiresInSeconds: 3 }, TEST_JWT_SECRET));
    const other = signToken({ sub: 'mallory', rooms: ['*'], expiresInSeconds: 600 }, TEST_JWT_SECRET);
    const ack: RefreshAck = await client.socket.timeout(10_000).emitWithAck('refresh', { token: other });
    expect(ack).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
    await waitFor(() => client.disconnectReason !== undefined, { timeoutMs: 10_000, what: 'the disconnect at exp' });
    expect(client.expired).toHaveLength(1);
  });

  it('refuses the handshake of a token already past exp (beyond the clock-skew leeway)', async () => {
    const expired = signToken({ sub: 'dave', rooms: ['*'], expiresInSeconds: -120 }, TEST_JWT_SECRET);
    expect(await connectError(gw.connect({ token: expired }))).toBe('unauthorized');
  });
});
