/**
 * Presence over Socket.IO on a real gateway (real broker, real PostgreSQL): the `presence` request's
 * checks, and membership following subscribe { presence: true }, unsubscribe and disconnect, with
 * the events another socket receives. Two gateways and a kill -9 are
 * apps/seqcast-e2e/src/presence.e2e-spec.ts; the store's rules are presence.int.spec.ts.
 */
import type { PresenceAck, PresenceChangeEvent } from '@seqcast/contracts';
import { waitFor } from '@seqcast/testing';
import { type ClientSocket, GatewayHarness, room } from '../testing';

let gw: GatewayHarness;

beforeAll(async () => {
  gw = await GatewayHarness.start({ presence: { pollMs: 100 } });
});

afterAll(async () => {
  await gw?.stop();
});

function presence(socket: ClientSocket, request: unknown): Promise<PresenceAck> {
  return socket.timeout(10_000).emitWithAck('presence', request as { roomId: string });
}

function recordPresence(socket: ClientSocket): string[] {
  const seen: string[] = [];
  const on = (type: string) => (event: PresenceChangeEvent) => seen.push(`${type}:${event.roomId}:${event.userId}`);
  socket.on('presence_join', on('join'));
  socket.on('presence_leave', on('leave'));
  return seen;
}

describe('presence over Socket.IO', () => {
  it('refuses malformed and forbidden presence requests', async () => {
    const roomId = room('team-presence-checks');
    const client = await gw.client([roomId], { sub: 'checker' });
    expect(await presence(client.socket, { roomId, extra: 1 })).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
    expect(await presence(client.socket, 'nope')).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
    expect(await presence(client.socket, { roomId: room('elsewhere') })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await presence(client.socket, { roomId })).toEqual({ ok: true, roomId, members: [], truncated: false });
    // A subscribe that fails (forbidden) leaves no membership behind.
    const other = room('team-presence-denied');
    expect(await gw.subscribe(client.socket, { roomId: other, presence: true })).toMatchObject({ ok: false });
    const admin = await gw.client(['*'], { sub: 'admin' });
    expect(await presence(admin.socket, { roomId: other })).toMatchObject({ ok: true, members: [] });
  });

  it('follows subscribe with presence, unsubscribe and disconnect, and tells the other members', async () => {
    const roomId = room('team-presence');
    const watcher = await gw.client([roomId], { sub: 'watcher' });
    const watcherSaw = recordPresence(watcher.socket);
    expect(await gw.subscribe(watcher.socket, { roomId, presence: true })).toMatchObject({ ok: true });
    const quiet = await gw.client([roomId], { sub: 'lurker' });
    expect(await gw.subscribe(quiet.socket, { roomId })).toMatchObject({ ok: true }); // no presence: not listed

    const ann = await gw.client([roomId], { sub: 'ann' });
    expect(await gw.subscribe(ann.socket, { roomId, presence: true })).toMatchObject({ ok: true });
    await waitFor(() => watcherSaw.length >= 1, { what: "ann's join" });
    const listed = await presence(quiet.socket, { roomId });
    expect(listed.ok && listed.members.map((m) => m.userId)).toEqual(['ann', 'watcher']);

    await ann.socket.timeout(10_000).emitWithAck('unsubscribe', { roomId });
    await waitFor(() => watcherSaw.length >= 2, { what: "ann's leave" });
    const ann2 = await gw.client([roomId], { sub: 'ann' });
    expect(await gw.subscribe(ann2.socket, { roomId, presence: true })).toMatchObject({ ok: true });
    await waitFor(() => watcherSaw.length >= 3, { what: "ann's return" });
    ann2.socket.disconnect();
    await waitFor(() => watcherSaw.length >= 4, { what: "ann's disconnect" });
    expect(watcherSaw).toEqual([`join:${roomId}:ann`, `leave:${roomId}:ann`, `join:${roomId}:ann`, `leave:${roomId}:ann`]);
  });
});
