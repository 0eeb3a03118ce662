import { Logger } from '@nestjs/common';
import { SERVER_DRAINING_CONNECT_ERROR } from '@seqcast/contracts';
import { DrainService } from './drain.service';
import type { GatewayServer } from './socket-types';

const POLL_MS = 50;

interface FakeSocket {
  id: string;
  connected: boolean;
  data: { closeReason?: string };
  conn: { writeBuffer: unknown[]; readyState: string; close(discard?: boolean): void };
  /** reconnectInMs of each server_restart, and when it was sent. */
  restarts: number[];
  restartedAt: number[];
  disconnectedAt: number | undefined;
  /** close(true) calls: the connection was cut. */
  cut: number;
  emit(event: string, payload: { reconnectInMs: number }): void;
  disconnect(close: boolean): void;
}

/**
 * A Socket.IO server as the drain sees it. `lingering` connections do not close on disconnect
 * (a peer that stopped reading) but do when cut; `unkillable` ones never close.
 */
function fakeServer(count: number, { lingering = false, unkillable = false } = {}) {
  const sockets = new Map<string, FakeSocket>();
  const engine = { clientsCount: 0 };
  const add = (id: string) => {
    const closeConn = () => {
      if (socket.conn.readyState === 'closed') return;
      socket.conn.readyState = 'closed';
      engine.clientsCount--;
    };
    const socket: FakeSocket = {
      id,
      connected: true,
      data: {},
      conn: {
        writeBuffer: [],
        readyState: 'open',
        close: (discard) => {
          if (discard) {
            socket.cut++;
            if (!unkillable) closeConn();
          } else if (!lingering && !unkillable) closeConn();
          else socket.conn.readyState = 'closing';
        },
      },
      restarts: [],
      restartedAt: [],
      disconnectedAt: undefined,
      cut: 0,
      emit: (event, payload) => {
        expect(event).toBe('server_restart');
        socket.restarts.push(payload.reconnectInMs);
        socket.restartedAt.push(Date.now());
      },
      disconnect: () => {
        socket.connected = false;
        socket.disconnectedAt = Date.now();
        sockets.delete(id);
        socket.conn.close();
      },
    };
    sockets.set(id, socket);
    engine.clientsCount++;
    return socket;
  };
  const all = Array.from({ length: count }, (_, i) => add(`s${i}`));
  const server = { of: () => ({ sockets }), engine } as unknown as GatewayServer;
  return { server, all, add, sockets, engine };
}

/** Starts the drain and records when it resolved (fake clock). */
function startDrain(drain: DrainService): { done: Promise<void>; endedAt: () => number | undefined } {
  let ended: number | undefined;
  const done = drain.drain().then(() => {
    ended = Date.now();
  });
  return { done, endedAt: () => ended };
}

beforeAll(() => Logger.overrideLogger(false));
afterAll(() => Logger.overrideLogger(true));
afterEach(() => jest.useRealTimers());

describe('DrainService', () => {
  it('turns readiness off and refuses handshakes from the first shutdown hook', async () => {
    const drain = new DrainService({ spreadMs: 100, timeoutMs: 1_000 });
    drain.attach(fakeServer(0).server);
    await expect(drain.checkNotDraining()).resolves.toBeUndefined();
    const next = jest.fn();
    const conn = { close: jest.fn() };
    drain.refuseWhileDraining()({ conn }, next);
    expect(next).toHaveBeenCalledWith();

    drain.onModuleDestroy();
    await expect(drain.checkNotDraining()).rejects.toThrow('draining');
    const refused = jest.fn();
    drain.refuseWhileDraining()({ conn }, refused);
    expect(refused).toHaveBeenCalledWith(new Error(SERVER_DRAINING_CONNECT_ERROR));
    await new Promise((resolve) => setImmediate(resolve));
    expect(conn.close).toHaveBeenCalled();
    await drain.beforeApplicationShutdown();
  });

  it('tells every socket at once, spread uniformly, keeps it connected until its time, then disconnects it', async () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const spreadMs = 10_000;
    const { server, all, sockets, engine } = fakeServer(200);
    const drain = new DrainService({ spreadMs, timeoutMs: 30_000 });
    drain.attach(server);
    const started = Date.now();
    const { done, endedAt } = startDrain(drain);

    // Everybody hears about it at the start, and nobody is let go yet.
    for (const s of all) {
      expect(s.restarts).toHaveLength(1);
      expect(s.restartedAt[0]).toBe(started);
      expect(s.data.closeReason).toBe('server_restart');
    }
    const delays = all.map((s) => s.restarts[0]);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...delays)).toBeLessThan(spreadMs);
    // One socket per slot of spreadMs / n: uniform, whatever the random draw.
    const perTenth = Array.from({ length: 10 }, (_, i) => delays.filter((d) => Math.floor(d / 1_000) === i).length);
    expect(perTenth).toEqual(Array(10).fill(20));

    // Halfway through, exactly the sockets whose time has come (give or take one poll) are gone.
    await jest.advanceTimersByTimeAsync(spreadMs / 2);
    for (const s of all) {
      if (s.restarts[0] >= spreadMs / 2) expect(s.connected).toBe(true);
      if (s.restarts[0] + POLL_MS <= spreadMs / 2) expect(s.connected).toBe(false);
    }

    await jest.advanceTimersByTimeAsync(spreadMs / 2 + POLL_MS);
    await done;
    expect(sockets.size).toBe(0);
    expect(engine.clientsCount).toBe(0);
    for (const s of all) {
      // Served until reconnectInMs, then disconnected within one poll (nothing was queued).
      expect(s.disconnectedAt).toBeGreaterThanOrEqual(started + s.restarts[0]);
      expect(s.disconnectedAt).toBeLessThanOrEqual(started + s.restarts[0] + POLL_MS);
      expect(s.restarts).toHaveLength(1);
      expect(s.cut).toBe(0);
    }
    // Done as soon as the last one left: long before the timeout.
    expect(endedAt()).toBeLessThanOrEqual(started + spreadMs + POLL_MS);
  });

  it('once a socket is due, waits for its queued frames (at most graceMs) before disconnecting it', async () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const { server, all } = fakeServer(2);
    const [flushes, stuck] = all;
    flushes.conn.writeBuffer.push('frame');
    stuck.conn.writeBuffer.push('frame');
    // random 0.5: two slots of 500 ms, the sockets due at 250 and 750 ms.
    const drain = new DrainService({ spreadMs: 1_000, timeoutMs: 10_000, graceMs: 1_000, random: () => 0.5 });
    drain.attach(server);
    const started = Date.now();
    const { done } = startDrain(drain);
    expect(all.map((s) => s.restarts[0]).sort((a, b) => a - b)).toEqual([250, 750]);

    // Both are due, but something is still queued for each: they stay.
    await jest.advanceTimersByTimeAsync(800);
    expect(flushes.connected).toBe(true);
    expect(stuck.connected).toBe(true);
    flushes.conn.writeBuffer.length = 0;
    await jest.advanceTimersByTimeAsync(POLL_MS);
    expect(flushes.connected).toBe(false);
    expect(stuck.connected).toBe(true);

    // The other one goes graceMs after it was due, flushed or not.
    const stuckDue = started + stuck.restarts[0];
    await jest.advanceTimersByTimeAsync(stuckDue + 1_000 - Date.now() - 1);
    expect(stuck.connected).toBe(true);
    await jest.advanceTimersByTimeAsync(POLL_MS + 1);
    await done;
    expect(stuck.disconnectedAt).toBeGreaterThanOrEqual(stuckDue + 1_000);
    expect(stuck.disconnectedAt).toBeLessThanOrEqual(stuckDue + 1_000 + POLL_MS);
  });

  it('cuts a connection that has not closed graceMs after its disconnect', async () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const { server, all, engine } = fakeServer(1, { lingering: true });
    const drain = new DrainService({ spreadMs: 1_000, timeoutMs: 10_000, graceMs: 300, random: () => 0.5 });
    drain.attach(server);
    const started = Date.now();
    const { done, endedAt } = startDrain(drain);
    const [socket] = all;
    expect(socket.restarts).toEqual([500]);

    await jest.advanceTimersByTimeAsync(500 + POLL_MS);
    expect(socket.connected).toBe(false);
    expect(socket.conn.readyState).toBe('closing');
    expect(engine.clientsCount).toBe(1);
    expect(socket.cut).toBe(0);

    await jest.advanceTimersByTimeAsync(300 + POLL_MS);
    await done;
    expect(socket.cut).toBe(1);
    expect(engine.clientsCount).toBe(0);
    expect(endedAt()).toBeLessThan(started + 1_000 + 300 + 3 * POLL_MS);
  });

  it('lets a socket leave before its time (reconnecting early is allowed)', async () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const { server, all, sockets, engine } = fakeServer(1);
    const drain = new DrainService({ spreadMs: 1_000, timeoutMs: 10_000, random: () => 0.9 });
    drain.attach(server);
    const { done, endedAt } = startDrain(drain);
    const [socket] = all;
    expect(socket.restarts).toEqual([900]);
    // The client goes on its own at 100 ms.
    await jest.advanceTimersByTimeAsync(100);
    socket.connected = false;
    sockets.delete(socket.id);
    socket.conn.readyState = 'closed';
    engine.clientsCount--;
    await jest.advanceTimersByTimeAsync(POLL_MS);
    await done;
    expect(endedAt()).toBeLessThanOrEqual(1_000_000 + 100 + POLL_MS);
    expect(socket.disconnectedAt).toBeUndefined();
  });

  it('also notifies a socket whose handshake completed just after the drain began, within the rest of the window', async () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const { server, add } = fakeServer(1);
    const drain = new DrainService({ spreadMs: 1_000, timeoutMs: 10_000, random: () => 0.5 });
    drain.attach(server);
    const started = Date.now();
    const { done } = startDrain(drain);
    await jest.advanceTimersByTimeAsync(200);
    const late = add('late');
    await jest.advanceTimersByTimeAsync(POLL_MS);
    expect(late.restarts).toHaveLength(1);
    const toldAt = late.restartedAt[0];
    expect(toldAt).toBeGreaterThanOrEqual(started + 200);
    // What is left of the 1 s window from when it was told.
    expect(late.restarts[0]).toBe(Math.floor(0.5 * (started + 1_000 - toldAt)));
    expect(late.connected).toBe(true);
    await jest.advanceTimersByTimeAsync(1_000);
    await done;
    expect(late.disconnectedAt).toBeGreaterThanOrEqual(toldAt + late.restarts[0]);
    expect(late.disconnectedAt).toBeLessThanOrEqual(started + 1_000 + POLL_MS);
  });

  it('ends on time while refused reconnects keep arriving (only connections open at the start hold it)', async () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const { server, all, engine } = fakeServer(2);
    const clients: Record<string, { readyState: string }> = {};
    for (const socket of all) clients[socket.id] = socket.conn;
    Object.assign(engine, { clients });
    const drain = new DrainService({ spreadMs: 1_000, timeoutMs: 10_000, graceMs: 300, random: () => 0.5 });
    drain.attach(server);
    const started = Date.now();
    const { done, endedAt } = startDrain(drain);
    // Clients told to come back hammer the draining instance: each attempt is an engine.io
    // connection that is refused (server_draining) and replaced by the next one.
    for (let t = 0; t < 1_500; t += POLL_MS) {
      clients[`refused-${t}`] = { readyState: 'open' };
      engine.clientsCount++;
      await jest.advanceTimersByTimeAsync(POLL_MS);
    }
    await done;
    expect(all.every((socket) => socket.conn.readyState === 'closed')).toBe(true);
    expect(engine.clientsCount).toBeGreaterThan(0);
    expect(endedAt()).toBeLessThanOrEqual(started + 1_000 + 2 * POLL_MS);
  });

  it('gives up after the drain timeout', async () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const { server, engine } = fakeServer(2, { unkillable: true });
    const drain = new DrainService({ spreadMs: 0, timeoutMs: 1_200, graceMs: 100 });
    drain.attach(server);
    const started = Date.now();
    const { done, endedAt } = startDrain(drain);
    await jest.advanceTimersByTimeAsync(1_100);
    expect(endedAt()).toBeUndefined();
    await jest.advanceTimersByTimeAsync(200);
    await done;
    expect(endedAt()).toBeGreaterThanOrEqual(started + 1_200);
    expect(endedAt()).toBeLessThanOrEqual(started + 1_200 + POLL_MS);
    expect(engine.clientsCount).toBe(2);
  });

  it('drains nothing without a server and only once', async () => {
    const drain = new DrainService();
    const first = drain.drain();
    expect(drain.drain()).toBe(first);
    await first;
    expect(drain.draining).toBe(true);
  });
});
