/**
 * How the gateway binds its port. Where Node has the `reusePort` listen option (22.12+ / 23.1+,
 * Linux and some BSDs: SO_REUSEPORT), the gateway sets it, so a new process can bind the port of
 * one that is still draining on the same host (a restart that is not behind a balancer); the
 * draining one stops accepting the moment its drain begins, so new connections all reach the new
 * process. On an older Node the second process gets EADDRINUSE until the first has exited: run
 * two gateways on different ports behind a balancer instead (docs/architecture.md).
 */
import type { Server } from 'node:http';

export function supportsReusePort(version: string = process.versions.node): boolean {
  const [major, minor] = version.split('.').map(Number);
  return major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
}

export interface ListenTarget {
  port: number;
  host: string;
  reusePort?: boolean;
}

export function listenTarget(port: number, host: string, reusePort = supportsReusePort()): ListenTarget {
  return reusePort ? { port, host, reusePort: true } : { port, host };
}

/** Stops accepting connections (open ones stay) so a process sharing the port takes the new ones. */
export function stopAccepting(server: Server): void {
  if (server.listening) server.close();
}
