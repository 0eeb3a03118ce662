/**
 * How the gateway binds its port. Where Node has the `reusePort` listen option (22.12+ / 23.1+,
 * Linux and some BSDs: SO_REUSEPORT), the gateway sets it, so a new process can bind the port of
 * one that is still draining on the same host (a restart that is not behind a balancer). The
 * kernel spreads new connections over both; the draining one keeps listening (its /readyz answers
 * 503) and refuses handshakes with `server_draining`, so a client lands on the new one within a
 * retry or two. On an older Node the second process gets EADDRINUSE until the first has exited:
 * run two gateways on different ports behind a balancer instead (docs/architecture.md).
 */

export function supportsReusePort(version: string = process.versions.node): boolean {
  const [major, minor] = version.split('.').map(Number);
  return major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
}

export interface ListenTarget {
  port: number;
  host: string;
  /** GATEWAY_LISTEN_BACKLOG: the accept queue asked for (the kernel caps it at net.core.somaxconn). */
  backlog?: number;
  reusePort?: boolean;
}

export function listenTarget(port: number, host: string, reusePort = supportsReusePort(), backlog?: number): ListenTarget {
  return { port, host, ...(backlog === undefined ? {} : { backlog }), ...(reusePort ? { reusePort: true } : {}) };
}
