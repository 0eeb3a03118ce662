/**
 * Issue 14 §4: presence across two gateways as real processes, and a kill -9 of one of them.
 *
 * Members joining on either gateway are listed by both and announced to the other's presence
 * sockets; when a gateway is killed with SIGKILL (no shutdown hooks, its rows stay in PostgreSQL)
 * its members are announced as gone once its lease expires (GATEWAY_PRESENCE_TTL_MS, short here),
 * except an SDK client that reconnected to the surviving gateway meanwhile: its membership moved
 * with it and it never left. Asserted: lists and events (SDK `presence()` and `onPresence` too).
 * Printed (not asserted): how long after the kill the leave arrived.
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
import { TcpBalancer } from './support/tcp-balancer';
import { SeqcastClient } from '@seqcast/client';

type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** Long enough that the SDK client is surely back (on the other gateway) before the dead gateway's lease expires. */
const TTL_MS = 8_000;
const ROOM = `presence-${randomBytes(3).toString('hex')}`;

interface Member {
  socket: ClientSocket;
  events: (PresenceChangeEvent & { type: 'join' | 'leave'; at: number })[];
}

describe('presence across gateways (real processes, kill -9)', () => {
  let stack: Stack;
  let balancer: TcpBalancer | undefined;
  const sockets: ClientSocket[] = [];
  const clients: SeqcastClient[] = [];

  beforeAll(async () => {
    stack = await startStack({
      gateways: 2,
      gatewayEnv: { GATEWAY_PRESENCE_TTL_MS: String(TTL_MS), GATEWAY_PRESENCE_POLL_MS: '200' },
    });
  });

  afterAll(async () => {
    for (const client of clients) client.close();
    for (const socket of sockets) socket.disconnect();
    await balancer?.close();
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
  const users = (list: { userId: string }[]) => list.map((m) => m.userId);

  it('lists and announces members of both gateways; a killed gateway’s members leave; an SDK client that reconnects elsewhere stays', async () => {
    const [gwA, gwB] = stack.gateways;
    // Alice uses the SDK through a balancer that prefers gateway A and fails over to B.
    balancer = await TcpBalancer.start([gwA.port, gwB.port], 'failover');
    const carol = await join(gwB.url, 'carol');
    const alice = new SeqcastClient({
      gatewayUrl: balancer.url,
      ingestUrl: stack.ingest.url,
      token: signToken({ sub: 'alice', rooms: ['presence-*'] }, TEST_JWT_SECRET),
    });
    clients.push(alice);
    const aliceSaw: string[] = [];
    alice.onPresence((change) => aliceSaw.push(`${change.type}:${change.userId}`));
    alice.connect();
    await alice.subscribe(ROOM, () => undefined, { presence: true });
    const dave = await join(gwA.url, 'dave');
    const bob = await join(gwB.url, 'bob');
    await waitFor(() => carol.events.length >= 3, { what: 'carol to see alice, dave and bob join' });
    expect([...seen(carol)].sort()).toEqual(['join:alice', 'join:bob', 'join:dave']);
    expect(users((await alice.presence(ROOM)).members)).toEqual(['alice', 'bob', 'carol', 'dave']);
    expect(await members(carol)).toEqual(['alice', 'bob', 'carol', 'dave']);

    // kill -9 gateway A: no shutdown hook deletes the rows of alice and dave there. Alice's SDK
    // reconnects through the balancer to B and resubscribes with presence; dave does not come back.
    const killedAt = Date.now();
    await gwA.kill();
    await waitFor(() => carol.events.length >= 4, { what: "dave's leave after the kill", timeoutMs: 30_000 });
    const daveGone = carol.events[3];
    expect(`${daveGone.type}:${daveGone.userId}`).toBe('leave:dave');
    expect(await members(carol)).toEqual(['alice', 'bob', 'carol']);
    // Alice never left: her membership moved with her connection (her old row expired with A's lease).
    expect(seen(carol)).not.toContain('leave:alice');
    expect(alice.state).toBe('connected');
    expect(users((await alice.presence(ROOM)).members)).toEqual(['alice', 'bob', 'carol']);
    await waitFor(() => bob.events.length >= 1, { what: "bob to see dave's leave" });
    expect(seen(bob)).toEqual(['leave:dave']);
    console.log(
      `presence: dave announced gone ${((daveGone.at - killedAt) / 1000).toFixed(1)} s after kill -9 ` +
        `(GATEWAY_PRESENCE_TTL_MS ${TTL_MS}, poll 200 ms)`,
    );

    // A clean disconnect is a leave too, and reaches the SDK's listener.
    bob.socket.disconnect();
    await waitFor(() => carol.events.length >= 5 && aliceSaw.includes('leave:bob'), { what: "bob's leave" });
    expect(seen(carol)[4]).toBe('leave:bob');
    expect(await members(carol)).toEqual(['alice', 'carol']);
    dave.socket.disconnect();
  });
});
