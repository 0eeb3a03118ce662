/**
 * A Socket.IO socket as a DeliveryTarget: `messages` emits, what its transport still holds, and
 * the slow-consumer kick.
 */
import type { Logger } from '@nestjs/common';
import type { Backlog, DeliveryTarget } from './delivery-session';
import { type GatewaySocket, userOf } from './socket-types';

/** How long a kicked client gets to read `slow_consumer` before its transport is cut. */
export const KICK_GRACE_MS = 2_000;

/** The engine.io connection internals read here (not part of Socket.IO's typed API). */
interface EngineConnection {
  readyState?: string;
  writeBuffer?: unknown[];
  transport?: { socket?: { bufferedAmount?: unknown; terminate?: unknown } };
  close(discard?: boolean): void;
}

function engineOf(socket: GatewaySocket): EngineConnection | undefined {
  return socket.conn as unknown as EngineConnection | undefined;
}

/** Packets engine.io has queued (the transport was not writable) and bytes the WebSocket buffers. */
export function transportBacklog(socket: GatewaySocket): Backlog {
  const conn = engineOf(socket);
  const buffered = conn?.transport?.socket?.bufferedAmount;
  return { messages: conn?.writeBuffer?.length ?? 0, bytes: typeof buffered === 'number' ? buffered : 0 };
}

/**
 * Closes the connection now, dropping whatever is queued: a client that stopped reading would
 * otherwise hold it (and its buffers) until the heartbeat gives up on it.
 */
export function terminateTransport(socket: GatewaySocket): void {
  const conn = engineOf(socket);
  if (!conn || conn.readyState === 'closed') return;
  const ws = conn.transport?.socket;
  if (ws && typeof ws.terminate === 'function') (ws.terminate as () => void)();
  else conn.close(true);
}

export function socketTarget(socket: GatewaySocket, logger: Logger): DeliveryTarget {
  return {
    id: socket.id,
    deliver: (event) => {
      socket.emit('messages', event);
    },
    transportBacklog: () => transportBacklog(socket),
    slowConsumer: (backlog) => {
      socket.data.closeReason = 'slow_consumer';
      logger.warn(
        `slow consumer ${socket.id} user=${userOf(socket)}: backlog ${backlog.messages} messages, ` +
          `${backlog.bytes} bytes; disconnecting`,
      );
      socket.emit('slow_consumer', { backlog });
      socket.disconnect(true);
      const timer = setTimeout(() => terminateTransport(socket), KICK_GRACE_MS);
      timer.unref();
    },
  };
}
