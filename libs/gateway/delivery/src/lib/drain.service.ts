/**
 * Graceful drain on shutdown (SIGTERM with Nest's shutdown hooks, or app.close()):
 *
 *  1. at once: readiness fails ('draining') and new handshakes get connect_error `server_draining`;
 *  2. every connected socket gets `server_restart { reconnectInMs: d }`, the delays d spread
 *     uniformly over [0, GATEWAY_DRAIN_SPREAD_MS) so the clients do not all come back in the
 *     same second;
 *  3. each socket stays connected and is served as usual (live messages, redelivery, subscribes)
 *     until its d has passed; then it is disconnected, as soon as nothing is queued for it on
 *     the transport (at most `graceMs` later), and a connection that still has not closed
 *     `graceMs` after that is cut;
 *  4. shutdown continues when every connection that was open when the drain began (and every
 *     socket it told) is gone, or after GATEWAY_DRAIN_TIMEOUT_MS (which the gateway's
 *     configuration requires to exceed spread + grace). Connections opened during the drain are
 *     reconnects being refused with `server_draining`: they close by themselves and do not hold
 *     the drain open (in a restart storm they never stop coming).
 *
 * So a client is never left without delivery while it waits: it is served here until it is
 * disconnected, reconnects at once (to another instance: this one refuses handshakes) and
 * resumes from its cursor. The events consumer and the history reads stop only after this
 * (onApplicationShutdown).
 */
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnModuleDestroy,
} from '@nestjs/common';
import { SERVER_DRAINING_CONNECT_ERROR } from '@seqcast/contracts';
import { DRAIN_OPTIONS } from './delivery.tokens';
import { gatewayMetrics } from './gateway.metrics';
import { terminateTransport, transportBacklog } from './socket-target';
import type { GatewayServer, GatewaySocket } from './socket-types';


export interface DrainOptions {
  /** GATEWAY_DRAIN_SPREAD_MS: reconnectInMs values are spread uniformly over [0, spreadMs). */
  spreadMs: number;
  /** GATEWAY_DRAIN_TIMEOUT_MS: shutdown goes on after this even if connections remain. */
  timeoutMs: number;
  /**
   * Longest a socket's disconnect waits, once its reconnectInMs has passed, for what is queued on
   * its transport to be written; and how long after the disconnect a connection that has not
   * closed (a peer that stopped reading) is cut.
   */
  graceMs?: number;
  /** Source of the spread's randomness (tests pin it). Default Math.random. */
  random?: () => number;
}

export const DEFAULT_DRAIN_OPTIONS: Required<DrainOptions> = {
  spreadMs: 10_000,
  timeoutMs: 30_000,
  graceMs: 1_000,
  random: Math.random,
};

const POLL_MS = 50;

/** The slice of a handshaking socket the refusing middleware touches. */
export interface RefusableSocket {
  conn: { close(): void };
}

/** An engine.io connection as the drain watches it close. */
interface WatchedConnection {
  readyState?: string;
}

/** A socket that was told `server_restart`, and where it is on its way out. */
interface Leaving {
  /** Told at + reconnectInMs: from then on it is disconnected. */
  disconnectAt: number;
  /** When the drain disconnected it (or saw it gone). */
  disconnectedAt?: number;
}

@Injectable()
export class DrainService implements OnModuleDestroy, BeforeApplicationShutdown {
  private readonly logger = new Logger(DrainService.name);
  private readonly options: Required<DrainOptions>;
  private server: GatewayServer | undefined;
  private drained: Promise<void> | undefined;
  private _draining = false;

  constructor(@Inject(DRAIN_OPTIONS) options: Partial<DrainOptions> = {}) {
    this.options = { ...DEFAULT_DRAIN_OPTIONS, ...defined(options) };
    gatewayMetrics.draining.set(0);
  }

  get draining(): boolean {
    return this._draining;
  }

  /** The Socket.IO server whose sockets are drained (the gateway hands it over at init). */
  attach(server: GatewayServer): void {
    this.server = server;
  }

  /** Readiness check 'draining': fails from the first moment of shutdown. */
  async checkNotDraining(): Promise<void> {
    if (this._draining) throw new Error('draining: this instance is shutting down');
  }

  /** io middleware (install before authentication): refuses handshakes while draining. */
  refuseWhileDraining(): (socket: RefusableSocket, next: (error?: Error) => void) => void {
    return (socket, next) => {
      if (!this._draining) return next();
      gatewayMetrics.connectRejections.inc({ reason: SERVER_DRAINING_CONNECT_ERROR });
      next(new Error(SERVER_DRAINING_CONNECT_ERROR));
      // Nothing else will happen on this connection: close it once the connect_error is written.
      setImmediate(() => socket.conn.close());
    };
  }

  /** The earliest shutdown hook: readiness and the handshake refusal flip now. */
  onModuleDestroy(): void {
    void this.drain();
  }

  /** Shutdown waits here until the sockets are gone (or the drain timeout passed). */
  async beforeApplicationShutdown(): Promise<void> {
    await this.drain();
  }

  /** Starts the drain (once); resolves when it is over. */
  drain(): Promise<void> {
    this.drained ??= this.run();
    return this.drained;
  }

  private async run(): Promise<void> {
    this._draining = true;
    gatewayMetrics.draining.set(1);
    const server = this.server;
    if (!server) return;
    const { spreadMs, timeoutMs, graceMs } = this.options;
    const started = Date.now();
    const windowEnd = started + spreadMs;
    const told = new Set<GatewaySocket>();
    const leaving = new Map<GatewaySocket, Leaving>();
    const initial = [...server.of('/').sockets.values()];
    // What the drain waits for: the connections open now (joined or not) and those of the
    // sockets it tells; refused reconnects come and go meanwhile without holding it open.
    const watched = new Set<WatchedConnection>(Object.values(engineClients(server)));
    this.logger.log(
      `draining: ${initial.length} sockets served on and disconnected one by one over ${spreadMs} ms, ` +
        `timeout ${timeoutMs} ms`,
    );
    this.notify(initial, told, watched, leaving, started, spreadMs);

    for (;;) {
      const now = Date.now();
      // Handshakes that passed the middleware just before the drain started: they leave within
      // what remains of the window, so the drain still ends by spread + grace.
      const late = [...server.of('/').sockets.values()].filter((s) => !told.has(s));
      if (late.length > 0) this.notify(late, told, watched, leaving, now, Math.max(0, windowEnd - now));
      for (const [socket, state] of leaving) {
        if (state.disconnectedAt === undefined) {
          if (!socket.connected) {
            state.disconnectedAt = now; // it left by itself (reconnecting early is allowed)
          } else if (now >= state.disconnectAt) {
            const pending = transportBacklog(socket);
            if ((pending.messages === 0 && pending.bytes === 0) || now - state.disconnectAt >= graceMs) {
              socket.disconnect(true);
              state.disconnectedAt = now;
            }
          }
        } else if (now - state.disconnectedAt >= graceMs) {
          // A peer that stopped reading keeps a closing connection open until the WebSocket's
          // close handshake times out; the drain does not wait for that.
          terminateTransport(socket);
          leaving.delete(socket);
        }
      }
      if (server.of('/').sockets.size === 0 && allClosed(watched)) break;
      if (now - started >= timeoutMs) {
        this.logger.warn(
          `drain timeout after ${now - started} ms: ${server.of('/').sockets.size} sockets, ` +
            `${server.engine.clientsCount} connections still open; shutting down anyway`,
        );
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    this.logger.log(`drained ${told.size} sockets in ${Date.now() - started} ms`);
  }

  /**
   * server_restart with delays spread uniformly over [0, windowMs): a random permutation of n
   * equal slots, jittered within each, so every stretch of the window gets its share of the
   * reconnects whatever the random draw.
   */
  private notify(
    sockets: GatewaySocket[],
    told: Set<GatewaySocket>,
    watched: Set<WatchedConnection>,
    leaving: Map<GatewaySocket, Leaving>,
    now: number,
    windowMs: number,
  ): void {
    const random = this.options.random;
    const n = sockets.length;
    const slots = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [slots[i], slots[j]] = [slots[j], slots[i]];
    }
    sockets.forEach((socket, k) => {
      const reconnectInMs = Math.min(
        windowMs > 0 ? windowMs - 1 : 0,
        Math.floor(((slots[k] + random()) * windowMs) / n),
      );
      socket.data.closeReason = 'server_restart';
      socket.emit('server_restart', { reconnectInMs });
      told.add(socket);
      if (socket.conn) watched.add(socket.conn as WatchedConnection);
      leaving.set(socket, { disconnectAt: now + reconnectInMs });
    });
  }
}

/** engine.io's open connections by id (not part of Socket.IO's typed API; absent in test doubles). */
function engineClients(server: GatewayServer): Record<string, WatchedConnection> {
  return (server.engine as unknown as { clients?: Record<string, WatchedConnection> }).clients ?? {};
}

/** Closed, or removed from the set once seen closed (so the check stays cheap as they go). */
function allClosed(connections: Set<WatchedConnection>): boolean {
  for (const conn of connections) {
    if (conn.readyState !== 'closed') return false;
    connections.delete(conn);
  }
  return true;
}

function defined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
