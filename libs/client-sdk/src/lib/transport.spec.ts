/**
 * The socket.io-client seam against a real socket.io server on 127.0.0.1: the handshake carries
 * the token, events map onto handlers, and socket.io never reconnects on its own (the SDK does).
 */
import type { ClientToServerEvents, Message, ServerToClientEvents } from '@seqcast/contracts/wire';
import { createServer, type Server as HttpServer } from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { Server, type Socket } from 'socket.io';
import { SeqcastClient } from './seqcast-client';
import { socketIoTransport, type Transport, type TransportHandlers } from './transport';

type ServerSocket = Socket<ClientToServerEvents, ServerToClientEvents>;

let http: HttpServer;
let io: Server<ClientToServerEvents, ServerToClientEvents>;
let url: string;
let serverSockets: ServerSocket[];
const open: Transport[] = [];

/** Resolves when `predicate` holds, polling; fails with `what` after the deadline. */
async function eventually(predicate: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function recorder() {
  const calls: Array<[string, unknown]> = [];
  const handlers: TransportHandlers = {
    connect: () => calls.push(['connect', undefined]),
    disconnect: (reason) => calls.push(['disconnect', reason]),
    connectError: (message) => calls.push(['connectError', message]),
    messages: (event) => calls.push(['messages', event]),
    serverRestart: (event) => calls.push(['serverRestart', event]),
    slowConsumer: (event) => calls.push(['slowConsumer', event]),
    tokenExpiring: (event) => calls.push(['tokenExpiring', event]),
    tokenExpired: (event) => calls.push(['tokenExpired', event]),
    unsubscribed: (event) => calls.push(['unsubscribed', event]),
  };
  return { calls, handlers, names: () => calls.map(([name]) => name) };
}

function msg(seq: number, prevSeq: number | null): Message {
  return {
    roomId: 'r1',
    seq,
    prevSeq,
    epoch: 'e1',
    clientMsgId: `c${seq}`,
    senderId: 'u',
    payload: seq,
    sentAt: '2026-11-28T08:15:30.123Z',
    sequencedAt: '2026-11-28T08:15:30.141Z',
  };
}

beforeAll(async () => {
  http = createServer();
  io = new Server(http);
  io.use((socket, next) => {
    const token = (socket.handshake.auth as { token?: unknown }).token;
    next(token === 'good' ? undefined : new Error('unauthorized'));
  });
  io.on('connection', (socket) => {
    serverSockets.push(socket);
    // A minimal gateway: ack first, then history after afterSeq (or nothing).
    socket.on('subscribe', (request, ack) => {
      ack({ ok: true, roomId: request.roomId, epoch: 'e1', headSeq: 2 });
      (socket.data as { subscribed?: boolean }).subscribed = true;
      if (request.afterSeq !== undefined) {
        const history = [msg(0, null), msg(1, 0), msg(2, 1)].filter((m) => m.seq > (request.afterSeq as number));
        if (history.length > 0) socket.emit('messages', { roomId: request.roomId, messages: history });
      }
    });
    socket.on('unsubscribe', (request, ack) => ack({ ok: true, roomId: request.roomId }));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
});

beforeEach(() => {
  serverSockets = [];
});

afterEach(() => {
  for (const t of open.splice(0)) t.close();
});

afterAll(async () => {
  await io.close();
});

describe('socketIoTransport', () => {
  it('connects with the token in the handshake and round-trips subscribe, messages and ack', async () => {
    const r = recorder();
    const transport = socketIoTransport({ url, token: 'good', handlers: r.handlers });
    open.push(transport);
    await eventually(() => r.names().includes('connect'), 'connect');
    const acks: unknown[] = [];
    transport.subscribe({ roomId: 'r1', afterSeq: 0, epoch: 'e1' }, (ack) => acks.push(ack));
    await eventually(() => r.names().includes('messages'), 'messages');
    expect(acks).toEqual([{ ok: true, roomId: 'r1', epoch: 'e1', headSeq: 2 }]);
    expect(r.calls.find(([n]) => n === 'messages')?.[1]).toEqual({ roomId: 'r1', messages: [msg(1, 0), msg(2, 1)] });

    const received: unknown[] = [];
    serverSockets[0].on('ack', (request) => received.push(request));
    transport.ack({ roomId: 'r1', seq: 2 });
    await eventually(() => received.length === 1, 'ack at the server');
    expect(received).toEqual([{ roomId: 'r1', seq: 2 }]);

    serverSockets[0].emit('server_restart', { reconnectInMs: 5 });
    serverSockets[0].emit('slow_consumer', { backlog: { messages: 1, bytes: 2 } });
    await eventually(() => r.names().includes('slowConsumer'), 'slow_consumer');
    expect(r.calls.find(([n]) => n === 'serverRestart')?.[1]).toEqual({ reconnectInMs: 5 });

    const refreshes: unknown[] = [];
    serverSockets[0].on('refresh', (request, ack) => {
      refreshes.push(request);
      ack({ ok: true, expiresAt: '2026-11-28T10:00:00.000Z', revokedRooms: [] });
    });
    serverSockets[0].emit('token_expiring', { expiresAt: '2026-11-28T09:00:00.000Z' });
    serverSockets[0].emit('unsubscribed', { roomId: 'r1', reason: 'access_revoked' });
    serverSockets[0].emit('token_expired', { expiredAt: '2026-11-28T09:00:00.000Z' });
    await eventually(() => r.names().includes('tokenExpired'), 'token_expired');
    expect(r.calls.filter(([n]) => ['tokenExpiring', 'unsubscribed', 'tokenExpired'].includes(n))).toEqual([
      ['tokenExpiring', { expiresAt: '2026-11-28T09:00:00.000Z' }],
      ['unsubscribed', { roomId: 'r1', reason: 'access_revoked' }],
      ['tokenExpired', { expiredAt: '2026-11-28T09:00:00.000Z' }],
    ]);
    const refreshAcks: unknown[] = [];
    transport.refresh({ token: 'fresh' }, (ack) => refreshAcks.push(ack));
    await eventually(() => refreshAcks.length === 1, 'the refresh ack');
    expect(refreshes).toEqual([{ token: 'fresh' }]);
    expect(refreshAcks).toEqual([{ ok: true, expiresAt: '2026-11-28T10:00:00.000Z', revokedRooms: [] }]);
  });

  it('reports a rejected token as connectError "unauthorized"', async () => {
    const r = recorder();
    open.push(socketIoTransport({ url, token: 'bad', handlers: r.handlers }));
    await eventually(() => r.names().includes('connectError'), 'connect_error');
    expect(r.calls).toEqual([['connectError', 'unauthorized']]);
    expect(serverSockets).toHaveLength(0);
  });

  it('never lets socket.io reconnect by itself, whatever socketOptions say', async () => {
    // A TCP server that hangs up on every connection: a transport-level failure, which is what
    // socket.io's own reconnection would retry within a millisecond with these options.
    let connections = 0;
    const refuser = createNetServer((conn) => {
      connections++;
      conn.destroy();
    });
    await new Promise<void>((resolve) => refuser.listen(0, '127.0.0.1', resolve));
    try {
      const r = recorder();
      open.push(
        socketIoTransport({
          url: `http://127.0.0.1:${(refuser.address() as AddressInfo).port}`,
          token: 'good',
          handlers: r.handlers,
          socketOptions: { reconnection: true, reconnectionDelay: 1, reconnectionDelayMax: 1 },
        }),
      );
      await eventually(() => r.names().includes('connectError'), 'connect_error');
      // An absence can only be observed over a window; 300 ms is hundreds of retry delays.
      const until = Date.now() + 300;
      await eventually(() => Date.now() >= until, 'the observation window');
      // One attempt tries each transport once (WebSocket, then long-polling: tryAllTransports).
      expect(connections).toBe(2);
      expect(r.names()).toEqual(['connectError']);
    } finally {
      await new Promise<void>((resolve) => refuser.close(() => resolve()));
    }
  });

  it('falls back to long-polling when the WebSocket is blocked, within the same attempt', async () => {
    // Like a proxy that refuses WebSocket upgrades: this server only speaks long-polling, and the
    // client still starts with WebSocket (the SDK's default order).
    const pollingHttp = createServer();
    const pollingIo = new Server<ClientToServerEvents, ServerToClientEvents>(pollingHttp, { transports: ['polling'] });
    const transportsSeen: string[] = [];
    pollingIo.on('connection', (socket) => {
      transportsSeen.push(socket.conn.transport.name);
      socket.on('subscribe', (request, ack) => ack({ ok: true, roomId: request.roomId, epoch: 'e1', headSeq: 0 }));
    });
    await new Promise<void>((resolve) => pollingHttp.listen(0, '127.0.0.1', resolve));
    try {
      const r = recorder();
      const transport = socketIoTransport({
        url: `http://127.0.0.1:${(pollingHttp.address() as AddressInfo).port}`,
        token: 'good',
        handlers: r.handlers,
      });
      open.push(transport);
      await eventually(() => r.names().includes('connect') || r.names().includes('connectError'), 'connect or connect_error');
      expect(r.names()).toEqual(['connect']);
      expect(transportsSeen).toEqual(['polling']);
      const acks: unknown[] = [];
      transport.subscribe({ roomId: 'r1' }, (ack) => acks.push(ack));
      await eventually(() => acks.length === 1, 'subscribe ack over long-polling');
      expect(acks).toEqual([{ ok: true, roomId: 'r1', epoch: 'e1', headSeq: 0 }]);
    } finally {
      await pollingIo.close();
    }
  });

  it('reports a server-side disconnect, and close() leaves the server with no socket', async () => {
    const r = recorder();
    const transport = socketIoTransport({ url, token: 'good', handlers: r.handlers });
    open.push(transport);
    await eventually(() => serverSockets.length === 1 && r.names().includes('connect'), 'connect');
    serverSockets[0].disconnect(true);
    await eventually(() => r.names().includes('disconnect'), 'disconnect');
    expect(r.calls[r.calls.length - 1]).toEqual(['disconnect', 'io server disconnect']);

    const r2 = recorder();
    const second = socketIoTransport({ url, token: 'good', handlers: r2.handlers });
    await eventually(() => serverSockets.length === 2 && r2.names().includes('connect'), 'second connect');
    second.close();
    await eventually(() => serverSockets[1].disconnected, 'server to see the close');
    expect(r2.names()).toEqual(['connect']); // no handler runs after close()
  });
});

describe('SeqcastClient over socket.io', () => {
  it('subscribes, resumes after a server-side drop and delivers each message once', async () => {
    const client = new SeqcastClient({
      gatewayUrl: url,
      ingestUrl: 'http://127.0.0.1:1',
      token: 'good',
      reconnect: { baseDelayMs: 10, maxDelayMs: 20 },
    });
    const seqs: number[] = [];
    client.connect();
    try {
      await client.subscribe('r1', (m) => seqs.push(m.seq));
      await eventually(() => serverSockets.length === 1, 'server socket');
      serverSockets[0].emit('messages', { roomId: 'r1', messages: [msg(3, 2), msg(4, 3)] });
      await eventually(() => seqs.length === 2, 'live messages');
      serverSockets[0].disconnect(true);
      await eventually(() => serverSockets.length === 2 && client.state === 'connected', 'reconnect');
      // Live messages only count once the resubscribe is acked (the ack travels ahead of them).
      await eventually(() => (serverSockets[1].data as { subscribed?: boolean }).subscribed === true, 'resubscribe');
      // The resubscribe asked for afterSeq 4: the toy gateway's history (0..2) has nothing newer.
      serverSockets[1].emit('messages', { roomId: 'r1', messages: [msg(4, 3), msg(5, 4)] });
      await eventually(() => seqs.length === 3, 'messages after the reconnect');
      expect(seqs).toEqual([3, 4, 5]);
    } finally {
      client.close();
    }
    // Real sockets and a real reconnect: Jest's 5 s default is too tight on a loaded CI box.
  }, 20_000);
});
