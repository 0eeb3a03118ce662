import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { ServerOptions } from 'socket.io';

export interface EdgeIoOptions {
  /** GATEWAY_PING_INTERVAL_MS */
  pingIntervalMs: number;
  /** GATEWAY_PING_TIMEOUT_MS */
  pingTimeoutMs: number;
  /** GATEWAY_CORS_ORIGINS; `['*']` allows any origin. */
  corsOrigins: string[];
}

/** Clients only send small subscribe/unsubscribe/ack frames; anything bigger is not ours. */
const MAX_CLIENT_FRAME_BYTES = 64 * 1024;

/**
 * Socket.IO on the application's own HTTP server (same port as /healthz and /readyz), with the
 * heartbeat and CORS settings from configuration.
 */
export class EdgeIoAdapter extends IoAdapter {
  constructor(
    app: INestApplicationContext,
    private readonly edge: EdgeIoOptions,
  ) {
    super(app);
  }

  override createIOServer(port: number, options?: Partial<ServerOptions>): unknown {
    const anyOrigin = this.edge.corsOrigins.includes('*');
    return super.createIOServer(port, {
      ...options,
      pingInterval: this.edge.pingIntervalMs,
      pingTimeout: this.edge.pingTimeoutMs,
      maxHttpBufferSize: MAX_CLIENT_FRAME_BYTES,
      serveClient: false,
      cors: { origin: anyOrigin ? '*' : this.edge.corsOrigins },
    });
  }
}
