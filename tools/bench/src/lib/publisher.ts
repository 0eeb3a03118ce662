import type { ClientToServerEvents, ServerToClientEvents } from '@seqcast/contracts/wire';
import { Agent, type ClientRequest, request } from 'node:http';
import { io, type Socket } from 'socket.io-client';
import { newHistogram, recordMs, type Histogram } from './stats';

/**
 * `seqcast`: HTTP to ingest-api; `seqcast-socket`: the `publish` event on one socket to the
 * gateway (url), answered with the same result; `socketio`: the baseline servers.
 */
export type PublishTarget =
  | { kind: 'seqcast'; url: string; token: string; run: string }
  | { kind: 'seqcast-socket'; url: string; token: string; run: string }
  | { kind: 'socketio'; url: string };

/** How long a socket publish may go unanswered before it counts as failed (as openLoop's HTTP bound). */
const SOCKET_ANSWER_MS = 10_000;

export interface PublishStats {
  /** Messages numbered per room so far (0..n-1): what every subscriber must end up with, minus `failed`. */
  issued: Record<string, number>;
  sent: number;
  ok: number;
  failed: number;
  firstError?: string;
  /** Request round trip, measured from the scheduled send time (no coordinated omission). */
  roundTrip: Histogram;
  /**
   * Scheduled send time → the request handed to the kernel (HTTP only): the harness's own share of
   * the `http` hop (its event loop, the agent's socket queue), which the service never sees.
   */
  sendLag: Histogram;
  /** Scheduled send time → the request created: how late the publishing loop itself was (part of sendLag). */
  timerLag: Histogram;
  /** Seconds from the first scheduled send to the last reply. */
  seconds: number;
}

/** Connections the publisher opens at once when warming up (see Publisher.warmConnections). */
const WARM_ROUND = 256;

/** BENCH_PUBLISH_SOCKETS, validated: a positive integer, 256 when unset. */
export function publishSockets(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') return 256;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`BENCH_PUBLISH_SOCKETS: expected a positive integer, got "${raw}"`);
  return n;
}

/** When a single publish was handed to the kernel (ms since the epoch), and whether on a new connection. */
export interface WriteStamp {
  at: number;
  fresh: boolean;
}

/** Sends time-stamped, per-room numbered messages to Seqcast's ingest-api or a baseline server. */
export class Publisher {
  // BENCH_PUBLISH_SOCKETS: when all are busy (rate × round trip above it) a request waits here, not in the service.
  private readonly maxSockets = publishSockets(process.env['BENCH_PUBLISH_SOCKETS']);
  // FIFO: every open connection carries a request now and then, so none sits idle past the server's
  // keep-alive timeout and gets closed, to be reopened at the next burst (LIFO, the default, leaves
  // all but the busiest idle).
  // maxFreeSockets: the default (256) destroys every idle connection above it, so a larger cap would
  // reopen connections at each burst.
  private readonly agent = new Agent({ keepAlive: true, maxSockets: this.maxSockets, maxFreeSockets: this.maxSockets, scheduling: 'fifo' });
  private readonly nextN = new Map<string, number>();
  readonly stats: PublishStats = { issued: {}, sent: 0, ok: 0, failed: 0, roundTrip: newHistogram(), sendLag: newHistogram(), timerLag: newHistogram(), seconds: 0 };
  private inFlight = 0;
  private idle: Array<() => void> = [];
  private readonly outstanding = new Set<ClientRequest>();
  /** Refused or unanswered messages per room not yet handed to the subscribers' bookkeeping. */
  private newFailures: Record<string, number[]> = {};

  /**
   * When each single HTTP publish was handed to the kernel (ms since the epoch), by room and number:
   * the `send` hop (the harness's own part of `http`). Cleared with takeWritten().
   */
  private written = new Map<string, WriteStamp>();
  /** Sockets that carried a request already: a request on any other socket opened a connection. */
  private readonly usedSockets = new WeakSet<object>();

  private socket?: Promise<Socket<ServerToClientEvents, ClientToServerEvents>>;

  constructor(private readonly target: PublishTarget) {}

  /** The publishing socket, opened once (before the clock of the first send matters: call it up front). */
  connectSocket(): Promise<Socket<ServerToClientEvents, ClientToServerEvents>> {
    const target = this.target;
    if (target.kind !== 'seqcast-socket') throw new Error('connectSocket: not a socket target');
    this.socket ??= new Promise((resolve, reject) => {
      const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(target.url, {
        auth: { token: target.token },
        transports: ['websocket'],
        reconnection: false,
        forceNew: true,
      });
      socket.once('connect', () => resolve(socket));
      socket.once('connect_error', reject);
    });
    return this.socket;
  }

  /** Messages for `rooms` (one or several per request); resolves when answered. */
  async publish(items: Array<{ roomId: string }>, scheduledAt = performance.now()): Promise<void> {
    const messages = items.map(({ roomId }) => {
      const n = this.nextN.get(roomId) ?? 0;
      this.nextN.set(roomId, n + 1);
      this.stats.issued[roomId] = n + 1;
      return { roomId, n, payload: { n, t: performance.timeOrigin + scheduledAt, pad: 'x'.repeat(48) } };
    });
    const target = this.target;
    if (target.kind === 'seqcast-socket') return this.publishOverSocket(target.run, messages, scheduledAt);
    let path: string;
    let body: unknown;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (target.kind === 'seqcast') {
      headers['authorization'] = `Bearer ${target.token}`;
      if (messages.length === 1) {
        path = `/v1/rooms/${encodeURIComponent(messages[0].roomId)}/messages`;
        body = { clientMsgId: `${target.run}-${messages[0].n}`, payload: messages[0].payload };
      } else {
        path = '/v1/messages/batch';
        body = { messages: messages.map((m) => ({ roomId: m.roomId, clientMsgId: `${target.run}-${m.n}`, payload: m.payload })) };
      }
    } else {
      // The baseline server emits one event per request: group by room like the gateway does.
      path = '/publish';
      body = { roomId: messages[0].roomId, messages: messages.map((m) => m.payload) };
    }
    this.stats.sent += messages.length;
    this.inFlight++;
    try {
      const single = messages.length === 1 ? messages[0] : undefined;
      const status = await this.post(path, headers, JSON.stringify(body), scheduledAt, (at, fresh) => {
        if (single) this.written.set(`${single.roomId}\u0000${single.n}`, { at: performance.timeOrigin + at, fresh });
      });
      if (status !== 202) throw new Error(`POST ${path} -> ${status}`);
      recordMs(this.stats.roundTrip, performance.now() - scheduledAt);
      this.stats.ok += messages.length;
    } catch (error) {
      // Not acknowledged: the message may or may not exist, so subscribers are not held to it.
      this.stats.failed += messages.length;
      this.stats.firstError ??= (error as Error).message;
      for (const m of messages) (this.newFailures[m.roomId] ??= []).push(m.n);
    } finally {
      this.inFlight--;
      if (this.inFlight === 0) for (const resolve of this.idle.splice(0)) resolve();
    }
  }

  private async publishOverSocket(
    run: string,
    messages: Array<{ roomId: string; n: number; payload: unknown }>,
    scheduledAt: number,
  ): Promise<void> {
    this.stats.sent += messages.length;
    this.inFlight++;
    try {
      const socket = await this.connectSocket();
      // One event per message: socket publish has no batch form.
      await Promise.all(
        messages.map(async (m) => {
          try {
            const ack = await socket
              .timeout(SOCKET_ANSWER_MS)
              .emitWithAck('publish', { roomId: m.roomId, clientMsgId: `${run}-${m.n}`, payload: m.payload });
            if (!ack.ok) throw new Error(`publish ${m.roomId} -> ${ack.error.code}: ${ack.error.message}`);
            recordMs(this.stats.roundTrip, performance.now() - scheduledAt);
            this.stats.ok++;
          } catch (error) {
            this.stats.failed++;
            this.stats.firstError ??= (error as Error).message;
            (this.newFailures[m.roomId] ??= []).push(m.n);
          }
        }),
      );
    } finally {
      this.inFlight--;
      if (this.inFlight === 0) for (const resolve of this.idle.splice(0)) resolve();
    }
  }

  /** Failures since the last call, per room (the subscribers exclude these numbers). */
  takeFailures(): Record<string, number[]> {
    const failures = this.newFailures;
    this.newFailures = {};
    return failures;
  }

  /**
   * Open loop: `rate` single messages per second for `seconds`, round-robin over `rooms`, sent on
   * schedule whether or not earlier ones were answered. Resolves when all are answered, or after
   * `answerWithinMs` more, when whatever is still queued or unanswered is abandoned and counted as
   * failed — a system that cannot keep up ends the run instead of stretching it without bound.
   */
  async openLoop(rate: number, seconds: number, rooms: string[], onTick?: (sent: number) => void, stopped?: () => boolean, answerWithinMs = 10_000): Promise<void> {
    const total = Math.round(rate * seconds);
    const started = performance.now();
    let sent = 0;
    while (sent < total && !stopped?.()) {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate) + 1);
      for (; sent < due; sent++) void this.publish([{ roomId: rooms[sent % rooms.length] }], started + (sent / rate) * 1000);
      onTick?.(sent);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.drained(), new Promise((resolve) => (timer = setTimeout(resolve, answerWithinMs)))]);
    clearTimeout(timer);
    for (const req of this.outstanding) req.destroy(new Error(`no answer within ${answerWithinMs} ms of the last scheduled send`));
    await this.drained();
    this.stats.seconds = (performance.now() - started) / 1000;
  }

  /** Closed loop: `concurrency` publishers each sending batches of `batch` until `total` are sent. */
  async closedLoop(total: number, batch: number, concurrency: number, rooms: string[], onTick?: (sent: number) => void): Promise<void> {
    const started = performance.now();
    let next = 0;
    const lane = async () => {
      while (next < total) {
        const size = Math.min(batch, total - next);
        const first = next;
        next += size;
        await this.publish(Array.from({ length: size }, (_, j) => ({ roomId: rooms[(first + j) % rooms.length] })));
        onTick?.(next);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, lane));
    this.stats.seconds = (performance.now() - started) / 1000;
  }

  drained(): Promise<void> {
    return this.inFlight === 0 ? Promise.resolve() : new Promise((resolve) => this.idle.push(resolve));
  }

  close(): void {
    this.agent.destroy();
    void this.socket?.then((socket) => socket.disconnect()).catch(() => undefined);
  }

  /**
   * Opens the agent's connections before the clock starts, as the socket publisher connects up
   * front: `count` concurrent GET /healthz, so the first second at a higher rate does not pay for
   * up to maxSockets TCP connections opened at once (and the server's accept of them). The server
   * closes idle keep-alive connections after its keepAliveTimeout (Node's default 5 s), so call it
   * right before each rate step. Returns the connections the agent holds afterwards.
   */
  async warmConnections(count = this.maxSockets): Promise<number> {
    if (this.target.kind === 'seqcast-socket') return 0;
    const url = new URL('/healthz', this.target.url);
    // In rounds of at most WARM_ROUND concurrent connects: more at once overflow the server's listen
    // queue (Node's default backlog is 511) and wait for the kernel's 1 s SYN retry.
    for (let opened = 0; opened < count; opened += WARM_ROUND) await this.warmRound(url, Math.min(WARM_ROUND, count - opened), opened);
    return Object.values(this.agent.freeSockets).reduce((sum, sockets) => sum + (sockets?.length ?? 0), 0);
  }

  /** `count` more concurrent requests while `busy` connections are held open, so each needs a new one. */
  private async warmRound(url: URL, count: number, busy: number): Promise<void> {
    await Promise.all(
      Array.from(
        { length: busy + count },
        () =>
          new Promise<void>((resolve) => {
            const req = request(url, { method: 'GET', agent: this.agent }, (res) => {
              res.resume();
              res.once('end', () => resolve());
            });
            req.once('error', () => resolve());
            req.end();
          }),
      ),
    );
  }

  /** Write times of single publishes since the last call (see `written`). */
  takeWritten(): Map<string, WriteStamp> {
    const written = this.written;
    this.written = new Map();
    return written;
  }

  private post(
    path: string,
    headers: Record<string, string>,
    body: string,
    scheduledAt: number,
    onWritten: (at: number, fresh: boolean) => void,
  ): Promise<number> {
    const url = new URL(path, this.target.url);
    recordMs(this.stats.timerLag, performance.now() - scheduledAt);
    return new Promise((resolve, reject) => {
      const req = request(url, { method: 'POST', agent: this.agent, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
        res.resume();
        res.once('end', () => resolve(res.statusCode ?? 0));
      });
      this.outstanding.add(req);
      req.once('close', () => this.outstanding.delete(req));
      req.once('error', reject);
      req.once('finish', () => {
        const at = performance.now();
        recordMs(this.stats.sendLag, at - scheduledAt);
        // Not req.reusedSocket: the agent leaves it unset for a request that waited for a busy socket.
        const socket = req.socket;
        const fresh = socket !== null && !this.usedSockets.has(socket);
        if (socket) this.usedSockets.add(socket);
        onWritten(at, fresh);
      });
      req.end(body);
    });
  }
}
