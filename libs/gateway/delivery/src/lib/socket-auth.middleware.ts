/**
 * Handshake authentication: a socket without a valid `auth: { token }` never connects. Clients get
 * a `connect_error` whose message is exactly `unauthorized` whatever the reason, so nothing about
 * the token or the verifier leaks; the reason is logged at debug level instead.
 */
import type { TokenVerifier } from '@seqcast/auth';
import { UNAUTHORIZED_CONNECT_ERROR } from '@seqcast/contracts';
import type { GatewaySocketData } from './socket-types';

/** The slice of a Socket.IO socket the middleware touches (keeps it testable without a server). */
export interface HandshakingSocket {
  handshake: { auth?: Record<string, unknown> };
  data: GatewaySocketData;
}

export function socketAuthMiddleware(
  verifier: Pick<TokenVerifier, 'verify'>,
  onRejected: (reason: string) => void = () => undefined,
): (socket: HandshakingSocket, next: (error?: Error) => void) => void {
  return (socket, next) => {
    const token = socket.handshake.auth?.['token'];
    verifier.verify(typeof token === 'string' ? token : undefined).then(
      (principal) => {
        socket.data.principal = principal;
        next();
      },
      (error: unknown) => {
        onRejected(error instanceof Error ? error.message : String(error));
        next(new Error(UNAUTHORIZED_CONNECT_ERROR));
      },
    );
  };
}
