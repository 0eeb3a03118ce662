/**
 * Concurrent sockets per principal (token `sub` / API key) and per client address, counted on this
 * gateway instance (in memory: N replicas admit up to N times the limit; a client's sockets are
 * usually spread over few of them by the balancer anyway). Checked in the handshake, after
 * authentication, so an over-limit client gets `connect_error` `too_many_connections` and never a
 * socket.
 */
import { TOO_MANY_CONNECTIONS_CONNECT_ERROR } from '@seqcast/contracts';
import { limitRejections } from './limits.metrics';

export interface ConnectionLimitOptions {
  /** GATEWAY_MAX_CONNECTIONS_PER_PRINCIPAL; 0: no limit. */
  maxPerPrincipal: number;
  /** GATEWAY_MAX_CONNECTIONS_PER_IP; 0: no limit. */
  maxPerAddress: number;
  /**
   * GATEWAY_CLIENT_IP_HEADER: read the client address from this header (its right-most entry, the
   * one the trusted proxy appended) instead of the TCP peer, which behind an ingress is the ingress.
   */
  clientIpHeader?: string;
}

/** The slice of a handshaking Socket.IO socket the limits read. */
export interface LimitedSocket {
  handshake: { address: string; headers: Record<string, string | string[] | undefined> };
  data: { principal?: { userId: string } };
  /** The engine.io connection: its `close` fires exactly once, whether or not the socket ever connected. */
  conn: { on(event: 'close', listener: () => void): unknown };
}

export function clientAddress(socket: LimitedSocket, header: string | undefined): string {
  if (header) {
    const raw = socket.handshake.headers[header.toLowerCase()];
    const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
    const last = value?.split(',').pop()?.trim();
    if (last) return last;
  }
  return socket.handshake.address;
}

class Counts {
  private readonly counts = new Map<string, number>();
  get(key: string): number {
    return this.counts.get(key) ?? 0;
  }
  add(key: string): void {
    this.counts.set(key, this.get(key) + 1);
  }
  remove(key: string): void {
    const next = this.get(key) - 1;
    if (next > 0) this.counts.set(key, next);
    else this.counts.delete(key);
  }
}

export class ConnectionLimits {
  private readonly perPrincipal = new Counts();
  private readonly perAddress = new Counts();

  constructor(private readonly options: ConnectionLimitOptions) {}

  /** Socket.IO middleware; install after authentication (it keys on the principal). */
  middleware(onRejected: (reason: string) => void = () => undefined) {
    return (socket: LimitedSocket, next: (error?: Error) => void): void => {
      const principal = socket.data.principal?.userId ?? '-';
      const address = clientAddress(socket, this.options.clientIpHeader);
      const { maxPerPrincipal, maxPerAddress } = this.options;
      let limit: 'connections_per_principal' | 'connections_per_ip' | undefined;
      if (maxPerPrincipal > 0 && this.perPrincipal.get(principal) >= maxPerPrincipal)
        limit = 'connections_per_principal';
      else if (maxPerAddress > 0 && this.perAddress.get(address) >= maxPerAddress) limit = 'connections_per_ip';
      if (limit) {
        limitRejections.inc({ limit });
        onRejected(`${limit} reached for user=${principal} address=${address}`);
        next(new Error(TOO_MANY_CONNECTIONS_CONNECT_ERROR));
        return;
      }
      // Only what is limited is counted: with both limits off a connection costs nothing here.
      const countPrincipal = maxPerPrincipal > 0;
      const countAddress = maxPerAddress > 0;
      if (countPrincipal || countAddress) {
        // Reserved now, so a burst of handshakes cannot all pass the check before any connects.
        if (countPrincipal) this.perPrincipal.add(principal);
        if (countAddress) this.perAddress.add(address);
        // `on`, not `once`: 'close' fires once, and once() would add a wrapper per connection.
        socket.conn.on('close', () => {
          if (countPrincipal) this.perPrincipal.remove(principal);
          if (countAddress) this.perAddress.remove(address);
        });
      }
      next();
    };
  }

  /** For tests and debugging: sockets currently counted for a principal / an address (0 where that limit is off). */
  countFor(principal: string, address: string): { principal: number; address: number } {
    return { principal: this.perPrincipal.get(principal), address: this.perAddress.get(address) };
  }
}
