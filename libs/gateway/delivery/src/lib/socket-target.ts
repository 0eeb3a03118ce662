/**
 * A Socket.IO socket as a DeliveryTarget: `messages` emits, what its transport still holds, and
 * the slow-consumer kick.
 */
import type { Logger } from '@nestjs/common';
import type { MessagesEvent } from '@seqcast/contracts';
import type { Backlog, DeliveryTarget, SharedFrame } from './delivery-session';
import { type GatewaySocket, userOf } from './socket-types';

/** How long a kicked client gets to read `slow_consumer` before its transport is cut. */
export const KICK_GRACE_MS = 2_000;

/**
 * Socket.IO's own broadcast path (socket.io-adapter `Adapter.broadcast`): the packet encoded once
 * by the adapter's `_encode` (which also pre-builds the WebSocket frame), then written to each
 * socket with `preEncoded`. Not part of the typed API; the shape is pinned by socket.io 4.8.
 */
interface PreEncodingAdapter {
  _encode(packet: object, opts: Record<string, unknown>): unknown[];
}
interface PacketClient {
  _packet(packet: unknown, opts: Record<string, unknown>): void;
}
interface EncodedPacket {
  packets: unknown[];
  opts: Record<string, unknown>;
}
/** socket.io-parser's EVENT packet type. */
const EVENT_PACKET = 2;

/**
 * Writes the frame pre-encoded where the socket offers socket.io's internals, else (a Socket.IO
 * without them, or a test double) emits it as usual: the bytes on the wire are the same.
 */
function writeShared(socket: GatewaySocket, frame: SharedFrame): void {
  const adapter = socket.nsp?.adapter as unknown as Partial<PreEncodingAdapter> | undefined;
  const client = socket.client as unknown as Partial<PacketClient> | undefined;
  if (typeof adapter?._encode !== 'function' || typeof client?._packet !== 'function') {
    socket.emit('messages', frame.event);
    return;
  }
  let encoded = frame.encoded as EncodedPacket | undefined;
  if (!encoded) {
    const opts: Record<string, unknown> = { preEncoded: true };
    const packet = { type: EVENT_PACKET, data: ['messages', frame.event], nsp: socket.nsp.name };
    encoded = { packets: adapter._encode(packet, opts), opts };
    frame.encoded = encoded;
  }
  // Client._packet skips a connection that is no longer open, as emit does.
  client._packet(encoded.packets, encoded.opts);
}

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

/** Methods on the prototype rather than closures per socket: a target costs three fields. */
class SocketTarget implements DeliveryTarget {
  readonly id: string;

  constructor(
    private readonly socket: GatewaySocket,
    private readonly logger: Logger,
  ) {
    this.id = socket.id;
  }

  deliver(event: MessagesEvent): void {
    this.socket.emit('messages', event);
  }

  deliverShared(frame: SharedFrame): void {
    writeShared(this.socket, frame);
  }

  transportBacklog(): Backlog {
    return transportBacklog(this.socket);
  }

  slowConsumer(backlog: Backlog): void {
    const socket = this.socket;
    socket.data.closeReason = 'slow_consumer';
    this.logger.warn(
      `slow consumer ${socket.id} user=${userOf(socket)}: backlog ${backlog.messages} messages, ` +
        `${backlog.bytes} bytes; disconnecting`,
    );
    socket.emit('slow_consumer', { backlog });
    socket.disconnect(true);
    const timer = setTimeout(() => terminateTransport(socket), KICK_GRACE_MS);
    timer.unref();
  }
}

export function socketTarget(socket: GatewaySocket, logger: Logger): DeliveryTarget {
  return new SocketTarget(socket, logger);
}
