/**
 * Graceful drain on shutdown (SIGTERM with Nest's shutdown hooks, or app.close()):
 *
 *  1. at once: readiness fails ('draining') and new handshakes get connect_error `server_draining`;
 *  2. every connected socket gets `server_restart { reconnectInMs }`, the delays spread
 *     uniformly over GATEWAY_DRAIN_SPREAD_MS so the clients do not all come back in the same
 *     second;
 *  3. each socket is disconnected once that event has left (or after a short grace);
 *  4. shutdown continues when every connection is gone, or after GATEWAY_DRAIN_TIMEOUT_MS.
 *
 * The events consumer and the history reads stop only after this (onApplicationShutdown), so
 * sockets keep receiving live messages until they are told to go.
 */
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnModuleDestroy,
} from '@nestjs/common';
import { DRAIN_OPTIONS } from './delivery.tokens';
import { gatewayMetrics } from './gateway.metrics';
import { transportBacklog } from './socket-target';
import type { GatewayServer, GatewaySocket } from './socket-types';

/** connect_error message while the gateway drains: connect to another instance (retry with backoff). */
export const SERVER_DRAINING_CONNECT_ERROR = 'server_draining';

export interface DrainOptions {
  /** GATEWAY_DRAIN_SPREAD_MS: reconnectInMs values are spread uniformly over [0, spreadMs). */
  spreadMs: number;
  /** GATEWAY_DRAIN_TIMEOUT_MS: shutdown goes on after this even if connections remain. */
  timeoutMs: number;
  /** Longest a socket waits between server_restart and its disconnect (flushed sooner: sooner). */
  graceMs?: number;
}

export const DEFAULT_DRAIN_OPTIONS: Required<DrainOptions> = { spreadMs: 10_000, timeoutMs: 30_000, graceMs: 1_000 };

const POLL_MS = 50;

/** The slice of a handshaking socket the refusing middleware touches. */
export interface RefusableSocket {
  conn: { close(): void };
}

@Injectable()
export class DrainService implements OnModuleDestroy, BeforeApplicationShutdown {
  private readonly logger = new Logger(DrainService.name);
  private readonly options: Required<DrainOptions>;
  private server: GatewayServer | undefined;
  private drained: Promise<void> | undefined;
  private _draining = false;

  constructor(@Inject(DRAIN_OPTIONS) options: Partial<DrainOptions> = {}) {
    this.options = { ...DEFAULT_DRAIN_OPTIONS, ...options };
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
    const started = Date.now();
    const notifiedAt = new Map<GatewaySocket, number>();
    const initial = [...server.of('/').sockets.values()];
    this.logger.log(
      `draining: ${initial.length} sockets told to reconnect within ${this.options.spreadMs} ms, ` +
        `timeout ${this.options.timeoutMs} ms`,
    );
    this.notify(initial, notifiedAt);

    for (;;) {
      const now = Date.now();
      // Handshakes that passed the middleware just before the drain started.
      const late = [...server.of('/').sockets.values()].filter((s) => !notifiedAt.has(s));
      if (late.length > 0) this.notify(late, notifiedAt);
      for (const [socket, at] of notifiedAt) {
        if (!socket.connected) continue;
        const pending = transportBacklog(socket);
        if ((pending.messages === 0 && pending.bytes === 0) || now - at >= this.options.graceMs) {
          socket.disconnect(true);
        }
      }
      if (server.of('/').sockets.size === 0 && server.engine.clientsCount === 0) break;
      if (now - started >= this.options.timeoutMs) {
        this.logger.warn(
          `drain timeout after ${now - started} ms: ${server.of('/').sockets.size} sockets, ` +
            `${server.engine.clientsCount} connections still open; shutting down anyway`,
        );
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    this.logger.log(`drained ${notifiedAt.size} sockets in ${Date.now() - started} ms`);
  }

  /** server_restart with delays spread uniformly: a random permutation of equal slots, jittered within each. */
  private notify(sockets: GatewaySocket[], notifiedAt: Map<GatewaySocket, number>): void {
    const n = sockets.length;
    const slots = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [slots[i], slots[j]] = [slots[j], slots[i]];
    }
    const now = Date.now();
    sockets.forEach((socket, k) => {
      const reconnectInMs = Math.min(
        this.options.spreadMs > 0 ? this.options.spreadMs - 1 : 0,
        Math.floor(((slots[k] + Math.random()) * this.options.spreadMs) / n),
      );
      socket.data.closeReason = 'server_restart';
      socket.emit('server_restart', { reconnectInMs });
      notifiedAt.set(socket, now);
    });
  }
}
