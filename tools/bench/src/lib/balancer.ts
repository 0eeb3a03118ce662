import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP balancer, like a Kubernetes Service in front of pods: new connections go to the
 * current upstream; `switchTo()` is the endpoint update of a rolling deploy (established
 * connections stay where they are until that server closes them). It holds two fds per routed
 * connection, so the storm runs one per client worker process (../workers/clients.ts) rather than
 * one for all clients.
 */
export class Balancer {
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    private upstream: number,
  ) {}

  static async start(upstream: number): Promise<Balancer> {
    const server = createServer({ pauseOnConnect: true });
    const balancer = new Balancer(server, upstream);
    server.on('connection', (client) => balancer.route(client));
    // A deep accept queue (the kernel caps it at net.core.somaxconn): with Node's default of 511 a
    // worker busy for a moment during the storm overflows it, the kernel drops the SYNs and each
    // client waits out TCP's SYN retransmits (1, 3, 7, 15, 31, 63 s): the harness, not the deploy.
    await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1', backlog: 65_535 }, () => resolve()));
    return balancer;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  switchTo(port: number): void {
    this.upstream = port;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private route(client: Socket): void {
    const upstream = connect({ port: this.upstream, host: '127.0.0.1' });
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
      s.on('error', () => s.destroy());
    }
    // A clean close is passed on after the buffered bytes (so a server's goodbye arrives); a reset as a reset.
    client.once('close', (hadError) => (hadError ? upstream.destroy() : upstream.end()));
    upstream.once('close', (hadError) => (hadError ? client.destroy() : client.end()));
    upstream.once('connect', () => {
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
  }
}
