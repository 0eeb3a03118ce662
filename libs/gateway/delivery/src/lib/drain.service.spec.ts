import { Logger } from '@nestjs/common';
import { DrainService, SERVER_DRAINING_CONNECT_ERROR } from './drain.service';
import type { GatewayServer } from './socket-types';
import { eventually } from './test-support';

interface FakeSocket {
  id: string;
  connected: boolean;
  data: { closeReason?: string };
  conn: { writeBuffer: unknown[]; readyState: string };
  restarts: number[];
  emit(event: string, payload: { reconnectInMs: number }): void;
  disconnect(close: boolean): void;
}

function fakeServer(count: number, { stuck = false } = {}) {
  const sockets = new Map<string, FakeSocket>();
  const engine = { clientsCount: 0 };
  const add = (id: string) => {
    const socket: FakeSocket = {
      id,
      connected: true,
      data: {},
      conn: { writeBuffer: [], readyState: 'open' },
      restarts: [],
      emit: (_event, payload) => socket.restarts.push(payload.reconnectInMs),
      disconnect: () => {
        socket.connected = false;
        sockets.delete(id);
        if (!stuck) engine.clientsCount--;
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

beforeAll(() => Logger.overrideLogger(false));
afterAll(() => Logger.overrideLogger(true));

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

  it('tells every socket to reconnect, spread uniformly over the window, then disconnects it', async () => {
    const spreadMs = 10_000;
    const { server, all, sockets } = fakeServer(200);
    const drain = new DrainService({ spreadMs, timeoutMs: 5_000 });
    drain.attach(server);
    await drain.drain();

    expect(sockets.size).toBe(0);
    const delays = all.map((s) => {
      expect(s.restarts).toHaveLength(1);
      expect(s.data.closeReason).toBe('server_restart');
      return s.restarts[0];
    });
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...delays)).toBeLessThan(spreadMs);
    // One socket per slot of spreadMs / n: uniform, whatever the random draw.
    const perTenth = Array.from({ length: 10 }, (_, i) => delays.filter((d) => Math.floor(d / 1_000) === i).length);
    expect(perTenth).toEqual(Array(10).fill(20));
  });

  it('also notifies a socket whose handshake completed just after the drain began', async () => {
    const { server, add } = fakeServer(1);
    const drain = new DrainService({ spreadMs: 100, timeoutMs: 5_000, graceMs: 10_000 });
    drain.attach(server);
    const late = add('late');
    late.conn.writeBuffer.push('pending frame'); // not flushed yet: waits for it
    const done = drain.drain();
    await eventually(() => expect(late.restarts).toHaveLength(1));
    expect(late.connected).toBe(true);
    late.conn.writeBuffer.length = 0;
    await done;
    expect(late.connected).toBe(false);
  });

  it('gives up after the drain timeout', async () => {
    const { server, engine } = fakeServer(2, { stuck: true });
    const drain = new DrainService({ spreadMs: 0, timeoutMs: 120 });
    drain.attach(server);
    const started = Date.now();
    await drain.drain();
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
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
