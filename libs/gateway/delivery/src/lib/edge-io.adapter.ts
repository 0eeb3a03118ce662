import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { ServerOptions } from 'socket.io';
import { allowRequestFor, corsFor } from './origin-policy';

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
    });
  }
}
