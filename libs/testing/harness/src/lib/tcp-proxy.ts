/**
 * A loopback TCP pass-through whose plug can be pulled and put back on the same port: a dependency
 * that really becomes unreachable (established connections reset, new ones refused) and comes back.
 * It can also slow every byte down (`setDelay`) or go silent while keeping connections open
 * (`blackhole`: a half-open network, where only timeouts notice), for the chaos suite.
 */
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  port: number;
  /** Resets every connection and stops listening. */
  cut(): Promise<void>;
  /** Listens again on the same port. */
  restore(): Promise<void>;
  /** Delays every chunk in both directions by `ms` (0 = none); order is kept. */
  setDelay(ms: number): void;
  /**
   * true: bytes in both directions are silently dropped and new connections are accepted but never
   * reach the target, while every socket stays open. false: data flows again (what was dropped stays lost).
   */
  blackhole(on: boolean): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let delayMs = 0;
  let silent = false;

  /** Forwards `from` to `to` through the delay and blackhole settings, one ordered queue per direction. */
  const forward = (from: Socket, to: Socket) => {
    let chain = Promise.resolve();
    from.on('data', (chunk: Buffer) => {
      if (silent) return;
      const delay = delayMs;
      if (delay === 0) {
        chain = chain.then(() => void (to.destroyed || to.write(chunk)));
        return;
      }
      chain = chain.then(
        () =>
          new Promise<void>((resolve) =>
            setTimeout(() => {
              if (!to.destroyed) to.write(chunk);
              resolve();
            }, delay),
          ),
      );
    });
  };

  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      const next = createServer((client) => {
        const upstream = connect(target.port, target.host);
        for (const socket of [client, upstream]) {
          sockets.add(socket);
          socket.on('close', () => sockets.delete(socket));
          socket.on('error', () => socket.destroy());
        }
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
        forward(client, upstream);
        forward(upstream, client);
      });
      next.once('error', reject);
      next.listen(port, '127.0.0.1', () => {
        server = next;
        resolve((next.address() as AddressInfo).port);
      });
    });

  const cut = async () => {
    const closing = server;
    server = undefined;
    if (!closing) return;
    const closed = new Promise<void>((resolve) => closing.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  };

  const port = await listen(0);
  return {
    port,
    cut,
    restore: async () => {
      if (!server) await listen(port);
    },
    setDelay: (ms) => {
      delayMs = Math.max(0, ms);
    },
    blackhole: (on) => {
      silent = on;
    },
    close: cut,
  };
}
