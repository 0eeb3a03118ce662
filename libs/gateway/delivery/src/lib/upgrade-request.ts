/**
 * The HTTP request that opened a connection (~2.2 KB per idle connection: raw headers, parsed
 * state, stream state) is needed only for the handshake, yet two references keep it for the
 * connection's lifetime:
 *
 *  - engine.io's `socket.request` (Socket.IO's `socket.request`; its memory-usage guide suggests
 *    dropping it). Socket.IO builds `socket.handshake` from it when the client joins the
 *    namespace, so it can only go once that happened: `releaseUpgradeRequest` at connection.
 *  - engine.io 6.6's `WebSocketResponse`, the stand-in response its middlewares get during a
 *    WebSocket upgrade: it forwards the TCP socket's `close` event, so a listener on that socket
 *    holds it, and it holds the request (`res.req`), which it only reads in its header methods,
 *    i.e. while middlewares run. `releaseUpgradeResponseRequest`, installed as the last engine.io
 *    middleware, drops that reference.
 *
 * Socket.IO's `socket.handshake` copies the request's headers object and the client's `auth`
 * (the token, often larger than the rest of the handshake) for the same lifetime. The handshake
 * middleware (authentication, connection limits) is their only reader, so at connection
 * `releaseUpgradeRequest` empties both too (~0.6 KB here with a bare Node client, several times
 * that with a browser's headers and cookies); address, time, url and query stay. Code that needs a
 * header or the token later must read it in a handshake middleware (and keep what it needs in
 * `socket.data`).
 */
import { ServerResponse } from 'node:http';

/** engine.io middleware; install after every other one (nothing after it may use `res.req`). */
export function releaseUpgradeResponseRequest(req: unknown, res: unknown, next: (error?: unknown) => void): void {
  // A plain HTTP response (polling) does not outlive its request; only the upgrade stand-in does.
  if (res && !(res instanceof ServerResponse)) {
    const stand = res as { req?: unknown };
    if (stand.req === req) stand.req = null;
  }
  next();
}

/** At connection (the handshake middleware has run): the request, its headers and the auth payload go. */
export function releaseUpgradeRequest(socket: { conn?: unknown; handshake?: { headers?: unknown; auth?: unknown } }): void {
  const conn = socket.conn as { request?: unknown } | undefined;
  if (conn) conn.request = null;
  if (socket.handshake) {
    socket.handshake.headers = {};
    socket.handshake.auth = {};
  }
}
