/**
 * Issue 14 §4: presence across two gateways as real processes, and a kill -9 of one of them.
 *
 * Members joining on either gateway are listed by both and announced to the other's presence
 * sockets; when a gateway is killed with SIGKILL (no shutdown hooks, its rows stay in PostgreSQL)
 * its members are announced as gone once its lease expires (GATEWAY_PRESENCE_TTL_MS, short here);
 * a member reconnecting to the surviving gateway is back in the list and announced again.
 * Asserted: lists and events. Printed (not asserted): how long after the kill the leave arrived.
 */
import { signToken } from '@seqcast/auth';
import type {
  ClientToServerEvents,
  PresenceAck,
  PresenceChangeEvent,
  ServerToClientEvents,
  SubscribeAck,
} from '@seqcast/contracts';
import { TEST_JWT_SECRET, waitFor } from '@seqcast/testing';
import { randomBytes } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import { startStack, type Stack } from './support/stack';

type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

const TTL_MS = 3_000;
const ROOM = `presence-${randomBytes(3).toString('hex')}`;

interface Member {
  socket: ClientSocket;
  events: (PresenceChangeEvent & { type: 'join' | 'leave'; at: number })[];
}

describe('presence across gateways (real processes, kill -9)', () => {
  let stack: Stack;
  const sockets: ClientSocket[] = [];

  beforeAll(async () => {
    stack = await startStack({
      gateways: 2,
      gatewayEnv: { GATEWAY_PRESENCE_TTL_MS: String(TTL_MS), GATEWAY_PRESENCE_POLL_MS: '200' },
    });
  });

  afterAll(async () => {
    for (const socket of sockets) socket.disconnect();
    await stack?.stop();
  });

  async function join(gatewayUrl: string, userId: string): Promise<Member> {
    const token = signToken({ sub: userId, rooms: ['presence-*'] }, TEST_JWT_SECRET);
    const socket: ClientSocket = io(gatewayUrl, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
    sockets.push(socket);
    const member: Member = { socket, events: [] };
    socket.on('presence_join', (event) => member.events.push({ type: 'join', at: Date.now(), ...event }));
    socket.on('presence_leave', (event) => member.events.push({ type: 'leave', at: Date.now(), ...event }));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    const ack: SubscribeAck = await socket.timeout(10_000).emitWithAck('subscribe', { roomId: ROOM, presence: true });
    expect(ack).toMatchObject({ ok: true, roomId: ROOM });
    return member;
  }

  async function members(member: Member): Promise<string[]> {
    const ack: PresenceAck = await member.socket.timeout(10_000).emitWithAck('presence', { roomId: ROOM });
    if (!ack.ok) throw new Error(`presence failed: ${ack.error.message}`);
    expect(ack.truncated).toBe(false);
    return ack.members.map((m) => m.userId);
  }

  const seen = (member: Member) => member.events.map((e) => `${e.type}:${e.userId}`);

  it('lists and announces members of both gateways; a killed gateway’s members leave; a reconnect elsewhere rejoins', async () => {
    const [gwA, gwB] = stack.gateways;
    const carol = await join(gwB.url, 'carol');
    const alice = await join(gwA.url, 'alice');
    const bob = await join(gwB.url, 'bob');
    await waitFor(() => carol.events.length >= 2, { what: 'carol to see alice and bob join' });
    expect(seen(carol)).toEqual(['join:alice', 'join:bob']);
    expect(await members(alice)).toEqual(['alice', 'bob', 'carol']);
    expect(await members(carol)).toEqual(['alice', 'bob', 'carol']);

    // kill -9 the gateway alice is on: no shutdown hook deletes her row.
    const killedAt = Date.now();
    await gwA.kill();
    await waitFor(() => carol.events.length >= 3, { what: "alice's leave after the kill", timeoutMs: 30_000 });
    expect(seen(carol)).toEqual(['join:alice', 'join:bob', 'leave:alice']);
    // Bob joined after alice: his baseline had her, so he hears only that she left.
    await waitFor(() => bob.events.length >= 1, { what: "bob to see alice's leave" });
    expect(seen(bob)).toEqual(['leave:alice']);
    expect(await members(carol)).toEqual(['bob', 'carol']);
    console.log(
      `presence: alice announced gone ${((carol.events[2].at - killedAt) / 1000).toFixed(1)} s after kill -9 ` +
        `(GATEWAY_PRESENCE_TTL_MS ${TTL_MS}, poll 200 ms)`,
    );

    // Alice reconnects, to the surviving gateway.
    const aliceAgain = await join(gwB.url, 'alice');
    await waitFor(() => carol.events.length >= 4, { what: "alice's rejoin" });
    expect(seen(carol)[3]).toBe('join:alice');
    expect(await members(aliceAgain)).toEqual(['alice', 'bob', 'carol']);

    // A clean disconnect is a leave too.
    bob.socket.disconnect();
    await waitFor(() => carol.events.length >= 5, { what: "bob's leave" });
    expect(seen(carol)[4]).toBe('leave:bob');
    expect(await members(carol)).toEqual(['alice', 'carol']);
  });
});
