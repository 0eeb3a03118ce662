import type { Principal } from '@seqcast/auth';
import type { ClientToServerEvents, ServerToClientEvents } from '@seqcast/contracts';
import type { DefaultEventsMap, Server, Socket } from 'socket.io';

/** Per-connection state, set by the handshake middleware. */
export interface GatewaySocketData {
  principal?: Principal;
}

export type GatewayServer = Server<ClientToServerEvents, ServerToClientEvents, DefaultEventsMap, GatewaySocketData>;
export type GatewaySocket = Socket<ClientToServerEvents, ServerToClientEvents, DefaultEventsMap, GatewaySocketData>;
