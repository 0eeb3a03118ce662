/**
 * Presence against real PostgreSQL, with two PresenceService instances standing for two gateways
 * on one database: members joining on either are listed by both and announced to the other's
 * participants; a user with several sockets is one member until the last one leaves; a room past
 * the member limit is listed truncated and gets no events; a gateway whose lease lapses (it
 * stopped renewing, as a crashed one does) loses its members. The crash of a real gateway process
 * (kill -9) is apps/seqcast-e2e/src/presence.e2e-spec.ts.
 */
import type { PresenceChangeEvent } from '@seqcast/contracts';
import { type DataSource, openDatabase } from '@seqcast/persistence';
import { createTestDatabase, type TestDatabase, waitFor } from '@seqcast/testing';
import { type PresenceParticipant, PresenceService } from './presence/presence.service';
import { PresenceStore } from './presence/presence.store';

let db: TestDatabase;
let dataSource: DataSource;
const services: PresenceService[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  dataSource = await openDatabase({ url: db.url, runMigrations: true });
});

afterAll(async () => {
  for (const service of services) await service.onApplicationShutdown();
  if (dataSource?.isInitialized) await dataSource.destroy();
  await db?.drop();
});

/**
 * Leases long enough that a loaded machine never lets a live test gateway's lease lapse (which
 * would hide its members for a moment); only the gateways meant to expire get a short one.
 */
async function gateway(gatewayId: string, maxMembers = 10, ttlMs = 10_000): Promise<PresenceService> {
  const service = new PresenceService(new PresenceStore(dataSource), { gatewayId, ttlMs, pollMs: 100, maxMembers });
  await service.onModuleInit();
  services.push(service);
  return service;
}

interface Recorder extends PresenceParticipant {
  events: (PresenceChangeEvent & { type: string })[];
}

let sockets = 0;
function socket(userId: string): Recorder {
  const events: Recorder['events'] = [];
  return { id: `socket-${++sockets}`, userId, events, emit: (type, payload) => events.push({ type, ...payload }) };
}

const users = (list: { members: { userId: string }[] }) => list.members.map((m) => m.userId);

describe('presence across gateways (PostgreSQL)', () => {
  it('lists members of both gateways and announces joins and leaves to the other one', async () => {
    const a = await gateway('gw-a');
    const b = await gateway('gw-b');
    const roomId = 'room-1';
    const alice = socket('alice');
    const bob = socket('bob');
    await a.join(alice, roomId);
    await b.join(bob, roomId);
    expect(users(await a.list(roomId))).toEqual(['alice', 'bob']);
    await waitFor(() => alice.events.length === 1, { what: "bob's join on the other gateway" });
    expect(alice.events).toEqual([{ type: 'presence_join', roomId, userId: 'bob' }]);

    // A second socket of alice (another gateway) does not make a second member, nor an event;
    // her first socket leaving does not make her leave.
    const alice2 = socket('alice');
    await b.join(alice2, roomId);
    await a.leave(alice.id, roomId);
    const carol = socket('carol');
    await a.join(carol, roomId);
    await waitFor(() => bob.events.length >= 1, { what: "carol's join" });
    expect(bob.events).toEqual([{ type: 'presence_join', roomId, userId: 'carol' }]);
    expect(users(await b.list(roomId))).toEqual(['alice', 'bob', 'carol']);

    await b.leaveAll(alice2.id);
    await waitFor(() => bob.events.length >= 2, { what: "alice's leave" });
    expect(bob.events[1]).toEqual({ type: 'presence_leave', roomId, userId: 'alice' });
    expect(carol.events).toEqual([{ type: 'presence_leave', roomId, userId: 'alice' }]);
  });

  it('bounds a room: lists at most the limit, truncated, and sends no events for it', async () => {
    const small = await gateway('gw-small', 2);
    const roomId = 'room-big';
    const first = socket('aaa');
    await small.join(first, roomId);
    for (const user of ['bbb', 'ccc']) await small.join(socket(user), roomId);
    const watcher = socket('zzz');
    await small.join(watcher, roomId);
    const list = await small.list(roomId);
    expect(users(list)).toEqual(['aaa', 'bbb']);
    expect(list.truncated).toBe(true);
    // Changes while the room is over the limit: the listed window moves, but that is not the room.
    await small.join(socket('ddd'), roomId);
    await small.leave(first.id, roomId);
    const known = () => small['rooms'].get(roomId)?.get(watcher.id)?.known;
    await waitFor(() => known()?.users.has('ccc') && !known()?.users.has('aaa'), { what: 'a poll of the moved window' });
    expect(known()?.truncated).toBe(true);
    expect(watcher.events).toEqual([]);
  });

  it("drops the members of a gateway that stopped renewing its lease once the lease expires", async () => {
    const survivor = await gateway('gw-survivor');
    const doomed = await gateway('gw-doomed', 10, 1_000);
    const roomId = 'room-crash';
    const watcher = socket('watcher');
    await survivor.join(watcher, roomId);
    await doomed.join(socket('zed'), roomId);
    await waitFor(() => watcher.events.length === 1, { what: "zed's join" });
    // What a crash leaves behind: rows and a lease nobody renews (timers stopped, nothing released).
    clearInterval(doomed['heartbeatTimer']);
    clearInterval(doomed['pollTimer']);
    services.splice(services.indexOf(doomed), 1);
    await waitFor(() => watcher.events.length === 2, { what: "zed's leave", timeoutMs: 10_000 });
    expect(watcher.events[1]).toEqual({ type: 'presence_leave', roomId, userId: 'zed' });
    expect(users(await survivor.list(roomId))).toEqual(['watcher']);
    await waitFor(
      async () => (await dataSource.query(`SELECT 1 FROM seqcast_presence WHERE gateway_id = 'gw-doomed'`)).length === 0,
      { what: 'the sweep' },
    );
  });

  it('puts its members back when its own lease lapsed and they were swept (PostgreSQL was out of reach)', async () => {
    const gw = await gateway('gw-lapsed', 10, 1_000);
    const roomId = 'room-lapsed';
    await gw.join(socket('yan'), roomId);
    // What another gateway's sweep does once this lease has expired unrenewed.
    await dataSource.query(`DELETE FROM seqcast_gateway_leases WHERE gateway_id = 'gw-lapsed'`);
    await dataSource.query(`DELETE FROM seqcast_presence WHERE gateway_id = 'gw-lapsed'`);
    expect(users(await gw.list(roomId))).toEqual([]);
    await waitFor(async () => users(await gw.list(roomId)).includes('yan'), { what: 'the re-registration' });
  });

  it('removes the members of a gateway that shuts down normally at once', async () => {
    const leaving = await gateway('gw-leaving');
    const roomId = 'room-shutdown';
    await leaving.join(socket('una'), roomId);
    expect(users(await leaving.list(roomId))).toEqual(['una']);
    await leaving.onApplicationShutdown();
    services.splice(services.indexOf(leaving), 1);
    const rows = await dataSource.query(`SELECT 1 FROM seqcast_presence WHERE gateway_id = 'gw-leaving'`);
    expect(rows).toHaveLength(0);
  });
});
