import { type INestApplicationContext, Logger } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { ServerOptions } from 'socket.io';
import { allowRequestFor, corsFor } from './origin-policy';

type BindArgs = Parameters<IoAdapter['bindMessageHandlers']>;
type HandlerSocket = BindArgs[0];

export interface EdgeIoOptions {
  /** GATEWAY_PING_INTERVAL_MS */
  pingIntervalMs: number;
  /** GATEWAY_PING_TIMEOUT_MS */
  pingTimeoutMs: number;
  /** SEQCAST_ALLOWED_ORIGINS (resolved); `['*']` allows any origin. */
  allowedOrigins: readonly string[];
}

/** Clients only send small subscribe/unsubscribe/ack frames; anything bigger is not ours. */
const MAX_CLIENT_FRAME_BYTES = 64 * 1024;

/**
 * Socket.IO on the application's own HTTP server (same port as /healthz and /readyz), with the
 * heartbeat settings from configuration and the origin allowlist on both transports.
 */
export class EdgeIoAdapter extends IoAdapter {
  constructor(
    app: INestApplicationContext,
    private readonly edge: EdgeIoOptions,
  ) {
    super(app);
  }

  override createIOServer(port: number, options?: Partial<ServerOptions>): unknown {
    return super.createIOServer(port, {
      ...options,
      pingInterval: this.edge.pingIntervalMs,
      pingTimeout: this.edge.pingTimeoutMs,
      maxHttpBufferSize: MAX_CLIENT_FRAME_BYTES,
      serveClient: false,
      cors: corsFor(this.edge.allowedOrigins),
      allowRequest: allowRequestFor(this.edge.allowedOrigins),
      // Explicit, as they cost memory per connection: no per-message compression contexts.
      perMessageDeflate: false,
    });
  }

  /**
   * One plain listener per handler instead of Nest's per-socket RxJS pipeline (fromEvent +
   * mergeMap + takeUntil(disconnect$) per handler, ~5 subscriber objects each, kept for the
   * connection's lifetime): the same dispatch, a fraction of the idle memory per connection.
   * Semantics kept: the payload as fromEvent shapes it, handlers' results answered through the
   * ack (or emitted when they carry an `event`), nothing handled once the socket is disconnected.
   */
  override bindMessageHandlers(socket: HandlerSocket, handlers: BindArgs[1], transform: BindArgs[2]): void {
    for (const { message, callback, isAckHandledManually } of handlers) {
      socket.on(message as string, (...args: unknown[]) => {
        if (socket.disconnected) return;
        const { data, ack } = this.mapPayload(args.length > 1 ? args : args[0]);
        transform(callback(data, ack)).subscribe({
          next: (response: unknown) =>
            respond(socket, response, isAckHandledManually ? undefined : (ack as ((r: unknown) => void) | undefined)),
          error: (error: unknown) =>
            logger.error(`handler of '${String(message)}' failed: ${error instanceof Error ? error.stack : String(error)}`),
        });
      });
    }
  }
}

const logger = new Logger(EdgeIoAdapter.name);

function respond(socket: HandlerSocket, response: unknown, ack: ((response: unknown) => void) | undefined): void {
  if (response === null || response === undefined) return;
  const event = (response as { event?: unknown }).event;
  if (event) {
    socket.emit(event as string, (response as { data?: unknown }).data);
    return;
  }
  if (typeof ack === 'function') ack(response);
}
