import type { Principal } from '@seqcast/auth';
import type { ClientToServerEvents, ServerToClientEvents } from '@seqcast/contracts';
import type { DefaultEventsMap, Server, Socket } from 'socket.io';

/** Per-connection state, set by the handshake middleware and the gateway. */
export interface GatewaySocketData {
  principal?: Principal;
  /** Why the gateway itself closed the connection (metrics label), when it did. */
  closeReason?: 'slow_consumer' | 'server_restart' | 'token_expired';
}

export type GatewayServer = Server<ClientToServerEvents, ServerToClientEvents, DefaultEventsMap, GatewaySocketData>;
export type GatewaySocket = Socket<ClientToServerEvents, ServerToClientEvents, DefaultEventsMap, GatewaySocketData>;

/** The user a socket authenticated as, for log lines (never the token). */
export function userOf(socket: { data: GatewaySocketData }): string {
  return socket.data.principal?.userId ?? '-';
}
