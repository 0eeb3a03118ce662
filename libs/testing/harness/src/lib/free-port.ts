import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** Lowest port that Linux hands to outgoing connections (`ip_local_port_range`), 32768 when unknown. */
export function ephemeralPortFloor(): number {
  try {
    const floor = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(floor) && floor > 2048 ? floor : 32_768;
  } catch {
    return 32_768;
  }
}

/** Whether nothing listens on `port` on loopback (bound, then released). */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A loopback port nobody is listening on, chosen below the ephemeral range: a port from port 0 is
 * one the kernel also gives to outgoing connections, and between this call and the service's bind a
 * benchmark's thousands of client sockets took such ports (EADDRINUSE at the service's start).
 */
export async function freePort(): Promise<number> {
  const from = 12_000;
  const to = ephemeralPortFloor() - 1;
  for (let attempt = 0; attempt < 200 && to > from; attempt++) {
    const port = from + Math.floor(Math.random() * (to - from + 1));
    if (await portFree(port)) return port;
  }
  throw new Error(`no free loopback port found in ${from}-${to}`);
}
