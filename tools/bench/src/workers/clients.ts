/**
 * A bench client worker: opens many sockets (plain socket.io-client following docs/protocol.md, the
 * real @seqcast/client SDK, or socket.io-client against the baseline servers), records
 * publish → delivered latency from the publisher's timestamp in each payload, and counts what each
 * client received per room. Several of these run side by side so the bench itself is not the
 * bottleneck; the parent drives them over IPC (see ../lib/ipc.ts).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { io, type Socket } from 'socket.io-client';
import { SeqcastClient } from '@seqcast/client';
import { Balancer } from '../lib/balancer';
import type { ClientTiming, ConnectCommand, ParentCommand, WorkerMessage } from '../lib/ipc';
import { RoomTracker } from '../lib/room-tracker';
import { encodeHistogram, newHistogram, recordMs } from '../lib/stats';

interface BenchPayload {
  n: number;
  t: number;
}

interface Client {
  rooms: Map<string, RoomTracker>;
  timing: ClientTiming;
  close(): void;
}

const histogram = newHistogram();
/** How late this process serves its own events: a storm's reconnect times include it. */
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
/** SDK: reconnect attempts since the mark, by the reason the SDK gave (a storm's retries and their causes). */
const reconnectReasons: Record<string, number> = {};
const clients: Client[] = [];
const errors: string[] = [];
let deliveries = 0;
/** With ConnectCommand.recordArrivals: the first client's arrival time per (room, message number). */
let arrivalClient: Client | undefined;
let arrivals: Array<[string, number, number]> = [];
let recordArrivals = false;
let markAt = Infinity;
let expected: Record<string, number> = {};
/** With ConnectCommand.balanced: this worker's clients reach the server through it. */
let balancer: Balancer | undefined;
/** Numbers the publisher got no acknowledgement for: not expected, and no gap if missing. */
const failed = new Map<string, Set<number>>();

function addFailures(failures: Record<string, number[]> | undefined): void {
  for (const [roomId, ns] of Object.entries(failures ?? {})) {
    let set = failed.get(roomId);
    if (!set) failed.set(roomId, (set = new Set()));
    for (const n of ns) set.add(n);
  }
}

const now = () => performance.timeOrigin + performance.now();
const send = (message: WorkerMessage) => process.send?.(message);
const noteError = (text: string) => {
  if (errors.length < 20) errors.push(text);
};

function receive(client: Client, roomId: string, payload: BenchPayload, at: number): void {
  const tracker = client.rooms.get(roomId);
  if (!tracker || typeof payload?.n !== 'number') return;
  if (!tracker.add(payload.n)) return;
  deliveries++;
  recordMs(histogram, at - payload.t);
  if (client === arrivalClient) arrivals.push([roomId, payload.n, at]);
  const timing = client.timing;
  if (timing.reconnectedAt !== undefined && timing.caughtUpAt === undefined && payload.t >= timing.reconnectedAt) {
    // Caught up: it holds a message published after it came back, and nothing before it is missing.
    if ([...client.rooms].every(([id, r]) => r.contiguousBut(failed.get(id)))) timing.caughtUpAt = at;
  }
}

function onDisconnect(client: Client): void {
  if (now() >= markAt && client.timing.disconnectedAt === undefined) client.timing.disconnectedAt = now();
}

function onReconnect(client: Client): void {
  if (client.timing.disconnectedAt !== undefined && client.timing.reconnectedAt === undefined) client.timing.reconnectedAt = now();
}

function roomsOf(command: ConnectCommand, index: number): string[] {
  if (command.roomsPerClient <= 0) return command.rooms;
  return Array.from({ length: command.roomsPerClient }, (_, k) => command.rooms[(index + k) % command.rooms.length]);
}

function waitConnected(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (error) => reject(new Error(`connect: ${error.message}`)));
  });
}

async function subscribeAll(socket: Socket, rooms: string[]): Promise<void> {
  for (const roomId of rooms) {
    const ack = (await socket.timeout(30_000).emitWithAck('subscribe', { roomId })) as { ok: boolean; error?: unknown };
    if (!ack.ok) throw new Error(`subscribe ${roomId}: ${JSON.stringify(ack.error)}`);
  }
}

/** Protocol-level Seqcast subscriber: one socket, live stream, cumulative acks per messages event. */
async function openSeqcast(command: ConnectCommand, rooms: string[]): Promise<Client> {
  const socket = io(command.url, { auth: { token: command.token }, transports: ['websocket'], reconnection: false, forceNew: true });
  const client: Client = { rooms: new Map(rooms.map((r) => [r, new RoomTracker()])), timing: {}, close: () => socket.close() };
  socket.on('messages', ({ roomId, messages }: { roomId: string; messages: Array<{ seq: number; payload: BenchPayload }> }) => {
    const at = now();
    for (const m of messages) receive(client, roomId, m.payload, at);
    socket.emit('ack', { roomId, seq: messages[messages.length - 1].seq });
  });
  // This client does not reconnect: a cut-off ends its share of the run, so say why it came.
  socket.on('slow_consumer', ({ backlog }: { backlog: { messages: number; bytes: number } }) =>
    noteError(`cut off as a slow consumer (owed ${backlog.messages} messages, ${backlog.bytes} bytes)`),
  );
  socket.on('disconnect', () => onDisconnect(client));
  await waitConnected(socket);
  await subscribeAll(socket, rooms);
  return client;
}

/** A socket.io-client of the baseline servers; with reconnect it relies on connection state recovery. */
async function openSocketIo(command: ConnectCommand, rooms: string[]): Promise<Client> {
  const socket = io(command.url, { transports: ['websocket'], reconnection: command.reconnect ?? false, forceNew: true });
  const client: Client = { rooms: new Map(rooms.map((r) => [r, new RoomTracker()])), timing: {}, close: () => socket.close() };
  socket.on('messages', ({ roomId, messages }: { roomId: string; messages: BenchPayload[] }) => {
    const at = now();
    for (const m of messages) receive(client, roomId, m, at);
  });
  socket.on('disconnect', () => onDisconnect(client));
  await waitConnected(socket);
  socket.on('connect', () => {
    onReconnect(client);
    // Without recovery the server forgot our rooms (and what we missed is gone): join again.
    if (!socket.recovered) subscribeAll(socket, rooms).catch((error: Error) => noteError(error.message));
  });
  await subscribeAll(socket, rooms);
  return client;
}

/** The real SDK: it owns reconnects, resume from its cursors, gap healing and ack pacing. */
async function openSdk(command: ConnectCommand, rooms: string[]): Promise<Client> {
  const sdk = new SeqcastClient({
    gatewayUrl: command.url,
    ingestUrl: command.ingestUrl ?? command.url,
    token: command.token ?? '',
    socketOptions: { transports: ['websocket'], forceNew: true },
  });
  const client: Client = { rooms: new Map(rooms.map((r) => [r, new RoomTracker()])), timing: {}, close: () => sdk.close() };
  let wasConnected = false;
  sdk.on('state', (state, detail) => {
    if (state === 'reconnecting' && now() >= markAt) {
      const reason = (detail?.reason ?? '?').replace(/ [^ ]*\d[^ ]*/g, ' …').slice(0, 80);
      reconnectReasons[reason] = (reconnectReasons[reason] ?? 0) + 1;
    }
    if (state === 'connected') {
      if (wasConnected) onReconnect(client);
      wasConnected = true;
    } else if (wasConnected && (state === 'reconnecting' || state === 'connecting')) {
      onDisconnect(client);
    }
  });
  sdk.on('error', (error) => noteError(`sdk: ${error.code}: ${error.message}`));
  sdk.connect();
  await Promise.all(rooms.map((roomId) => sdk.subscribe(roomId, (m) => receive(client, roomId, m.payload as unknown as BenchPayload, now()))));
  return client;
}

async function connectAll(original: ConnectCommand): Promise<void> {
  let command = original;
  if (command.balanced) {
    try {
      balancer = await Balancer.start(Number(new URL(command.url).port));
    } catch (error) {
      send({ type: 'connected', ok: 0, failed: command.count, firstError: `balancer: ${(error as Error).message}` });
      return;
    }
    command = { ...command, url: balancer.url };
  }
  const open = command.mode === 'sdk' ? openSdk : command.mode === 'seqcast' ? openSeqcast : openSocketIo;
  let ok = 0;
  let failed = 0;
  let firstError: string | undefined;
  let nextIndex = 0;
  const lane = async () => {
    while (nextIndex < command.count) {
      const index = command.firstClient + nextIndex++;
      try {
        const client = await open(command, roomsOf(command, index));
        if (recordArrivals && !arrivalClient) arrivalClient = client;
        clients.push(client);
        ok++;
      } catch (error) {
        failed++;
        firstError ??= (error as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: command.concurrency ?? 50 }, lane));
  send({ type: 'connected', ok, failed, firstError });
}

function complete(client: Client): boolean {
  for (const [roomId, tracker] of client.rooms) if (tracker.missing(expected[roomId] ?? 0, failed.get(roomId)) > 0) return false;
  return true;
}

function progress(): void {
  let done = 0;
  let caughtUp = 0;
  let disconnected = 0;
  for (const c of clients) {
    if (complete(c)) done++;
    if (c.timing.caughtUpAt !== undefined) caughtUp++;
    if (c.timing.disconnectedAt !== undefined) disconnected++;
  }
  send({ type: 'progress', deliveries, complete: done, caughtUp, disconnected });
}

function report(): void {
  let lost = 0;
  let duplicates = 0;
  let incompleteClients = 0;
  for (const c of clients) {
    let missing = 0;
    for (const [roomId, tracker] of c.rooms) {
      missing += tracker.missing(expected[roomId] ?? 0, failed.get(roomId));
      duplicates += tracker.duplicates;
    }
    lost += missing;
    if (missing > 0) incompleteClients++;
  }
  send({
    type: 'report',
    histogram: encodeHistogram(histogram),
    deliveries,
    duplicates,
    lost,
    incompleteClients,
    timings: clients.map((c) => c.timing),
    errors,
    arrivals: recordArrivals ? arrivals : undefined,
    reconnectReasons,
    loopDelay: { p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 },
  });
}

process.on('message', (message: ParentCommand) => {
  switch (message.cmd) {
    case 'connect':
      recordArrivals = message.recordArrivals === true;
      void connectAll(message);
      break;
    case 'mark':
      markAt = message.at;
      loopDelay.reset();
      break;
    case 'switch':
      balancer?.switchTo(message.port);
      send({ type: 'switched', port: message.port });
      break;
    case 'expected':
      expected = message.expected;
      addFailures(message.failed);
      progress();
      break;
    case 'report':
      expected = message.expected;
      addFailures(message.failed);
      report();
      // The next phase (another offered rate) gets its own percentiles.
      if (message.reset) {
        histogram.reset();
        arrivals = [];
      }
      break;
    case 'close':
      for (const c of clients) c.close();
      setTimeout(() => process.exit(0), 100);
      break;
  }
});
// An orphaned worker (the bench died) must not linger.
process.on('disconnect', () => process.exit(0));
