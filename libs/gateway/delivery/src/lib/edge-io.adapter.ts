import { type INestApplicationContext, Logger } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { ServerOptions } from 'socket.io';
import { allowRequestFor, corsFor } from './origin-policy';
import { releaseUpgradeResponseRequest } from './upgrade-request';

type BindArgs = Parameters<IoAdapter['bindMessageHandlers']>;
type HandlerSocket = BindArgs[0];
type HandlerCallback = BindArgs[1][number]['callback'];

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
  /** Per socket: the callbacks Nest bound to it, at their message's slot. */
  private readonly callbacks = new WeakMap<HandlerSocket, (HandlerCallback | undefined)[]>();
  /** One listener per message (and ack mode), created with the first socket, shared by all. */
  private readonly shared = new Map<string, { slot: number; listener: (this: HandlerSocket, ...args: unknown[]) => void }>();

  constructor(
    app: INestApplicationContext,
    private readonly edge: EdgeIoOptions,
  ) {
    super(app);
  }

  override createIOServer(port: number, options?: Partial<ServerOptions>): unknown {
    const server = super.createIOServer(port, {
      ...options,
      pingInterval: this.edge.pingIntervalMs,
      pingTimeout: this.edge.pingTimeoutMs,
      maxHttpBufferSize: MAX_CLIENT_FRAME_BYTES,
      serveClient: false,
      cors: corsFor(this.edge.allowedOrigins),
      allowRequest: allowRequestFor(this.edge.allowedOrigins),
      // Explicit, as they cost memory per connection: no per-message compression contexts.
      perMessageDeflate: false,
    }) as { engine?: { use(middleware: typeof releaseUpgradeResponseRequest): void } };
    // Last of engine.io's middlewares (its CORS one is installed by its constructor).
    server.engine?.use(releaseUpgradeResponseRequest);
    return server;
  }

  /**
   * Plain listeners instead of Nest's per-socket RxJS pipeline (fromEvent + mergeMap +
   * takeUntil(disconnect$) per handler, ~5 subscriber objects each, kept for the connection's
   * lifetime), and shared ones: one listener function per message for all sockets (EventEmitter
   * calls it with the socket as `this`), which finds the socket's handler in a small array. Per
   * socket that leaves the callbacks Nest binds to it and one array, instead of a closure and its
   * context per handler (~1 KB per idle connection; docs/benchmarks.md "Idle connection memory").
   * Semantics kept: the payload as fromEvent shapes it, handlers' results answered through the
   * ack (or emitted when they carry an `event`), nothing handled once the socket is disconnected.
   */
  override bindMessageHandlers(socket: HandlerSocket, handlers: BindArgs[1], transform: BindArgs[2]): void {
    let callbacks = this.callbacks.get(socket);
    if (!callbacks) {
      callbacks = [];
      this.callbacks.set(socket, callbacks);
    }
    for (const { message, callback, isAckHandledManually } of handlers) {
      const shared = this.sharedListener(String(message), Boolean(isAckHandledManually), transform);
      if (callbacks[shared.slot] === undefined) {
        callbacks[shared.slot] = callback;
        socket.on(message as string, shared.listener);
      } else {
        // Another gateway handles the same message on this socket: it gets a listener of its own.
        socket.on(message as string, (...args: unknown[]) => this.dispatch(socket, String(message), args, callback, isAckHandledManually, transform));
      }
    }
  }

  private sharedListener(message: string, manualAck: boolean, transform: BindArgs[2]) {
    const key = `${manualAck ? 'manual' : 'auto'}:${message}`;
    let shared = this.shared.get(key);
    if (!shared) {
      const slot = this.shared.size;
      // eslint-disable-next-line @typescript-eslint/no-this-alias -- the listener's own `this` is the socket
      const adapter = this;
      // Nest's transform is the same function of the result for every socket (it only awaits it),
      // so the first socket's serves them all.
      const listener = function (this: HandlerSocket, ...args: unknown[]): void {
        const callback = adapter.callbacks.get(this)?.[slot];
        if (callback) adapter.dispatch(this, message, args, callback, manualAck, transform);
      };
      shared = { slot, listener };
      this.shared.set(key, shared);
    }
    return shared;
  }

  private dispatch(
    socket: HandlerSocket,
    message: string,
    args: unknown[],
    callback: HandlerCallback,
    manualAck: boolean | undefined,
    transform: BindArgs[2],
  ): void {
    if (socket.disconnected) return;
    const { data, ack } = this.mapPayload(args.length > 1 ? args : args[0]);
    transform(callback(data, ack)).subscribe({
      next: (response: unknown) =>
        respond(socket, response, manualAck ? undefined : (ack as ((r: unknown) => void) | undefined)),
      error: (error: unknown) =>
        logger.error(`handler of '${message}' failed: ${error instanceof Error ? error.stack : String(error)}`),
    });
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
