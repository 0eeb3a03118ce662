import { connect, createServer, type Server, type Socket } from 'node:net';

export type BalancerPolicy = 'round-robin' | 'failover';

interface Link {
  client: Socket;
  upstream: Socket;
  port: number;
  frozen: boolean;
}

/**
 * A tiny loopback TCP load balancer, like a Kubernetes Service in front of several pods: each new
 * connection goes to one upstream (round-robin, or the first in the list that accepts), and when
 * that upstream refuses, the next one is tried. A connection is never moved once established, so
 * when an upstream dies its clients see their connection close and must reconnect themselves.
 *
 * Tests also use it as the network: `sever()` cuts live connections (a dropped link), `refuse()`
 * turns new ones away until `accept()` (an outage between client and service), `freeze()` stops
 * forwarding on live connections in both directions until `thaw()` (a peer that stopped reading:
 * the service's writes back up and nothing the client sends, acks included, arrives).
 */
export class TcpBalancer {
  private upstreams: number[];
  private nextIndex = 0;
  private refusing = false;
  private readonly links = new Set<Link>();
  /** Every socket this balancer opened or accepted that is not closed yet, so close() never hangs. */
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    upstreams: number[],
    readonly policy: BalancerPolicy,
  ) {
    this.upstreams = [...upstreams];
  }

  static async start(upstreams: number[], policy: BalancerPolicy = 'round-robin'): Promise<TcpBalancer> {
    // pauseOnConnect: nothing the client sends may be lost while an upstream is being chosen.
    const server = createServer({ pauseOnConnect: true });
    const balancer = new TcpBalancer(server, upstreams, policy);
    server.on('connection', (client) => balancer.route(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return balancer;
  }

  get port(): number {
    const address = this.server.address();
    return typeof address === 'object' && address ? address.port : 0;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Replaces the upstream set (new connections only; established ones stay where they are). */
  setUpstreams(ports: number[]): void {
    this.upstreams = [...ports];
    this.nextIndex = 0;
  }

  /** Established connections per upstream port right now. */
  liveConnections(port: number): number {
    let n = 0;
    for (const link of this.links) if (link.port === port) n++;
    return n;
  }

  /** Closes established connections abruptly (both sides), optionally only those to one upstream. */
  sever(port?: number): number {
    let n = 0;
    for (const link of [...this.links]) {
      if (port !== undefined && link.port !== port) continue;
      link.client.destroy();
      link.upstream.destroy();
      this.links.delete(link);
      n++;
    }
    return n;
  }

  /**
   * Stops forwarding on every established connection, both ways, without closing anything. The
   * bytes wait in the kernel buffers; the service sees a client that neither reads nor answers.
   */
  freeze(): number {
    let n = 0;
    for (const link of this.links) {
      if (link.frozen) continue;
      link.frozen = true;
      link.upstream.unpipe(link.client);
      link.client.unpipe(link.upstream);
      link.upstream.pause();
      link.client.pause();
      n++;
    }
    return n;
  }

  /** Forwards again whatever froze, buffered bytes first (a close that happened meanwhile follows them). */
  thaw(): number {
    let n = 0;
    for (const link of this.links) {
      if (!link.frozen) continue;
      link.frozen = false;
      link.upstream.pipe(link.client);
      link.client.pipe(link.upstream);
      n++;
    }
    return n;
  }

  /** New connections are closed at once, as when no upstream is reachable, until `accept()`. */
  refuse(): void {
    this.refusing = true;
  }

  accept(): void {
    this.refusing = false;
  }

  async close(): Promise<void> {
    this.sever();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private route(client: Socket): void {
    this.track(client);
    client.on('error', () => undefined); // reported through 'close'; a reset client is routine here
    if (this.refusing || this.upstreams.length === 0) {
      client.destroy();
      return;
    }
    const order =
      this.policy === 'round-robin'
        ? this.upstreams.map((_, i) => this.upstreams[(this.nextIndex + i) % this.upstreams.length])
        : [...this.upstreams];
    if (this.policy === 'round-robin') this.nextIndex = (this.nextIndex + 1) % this.upstreams.length;
    this.tryUpstream(client, order, 0);
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  private tryUpstream(client: Socket, order: number[], index: number): void {
    if (client.destroyed) return;
    if (index >= order.length) {
      client.destroy();
      return;
    }
    const port = order[index];
    const upstream = connect({ port, host: '127.0.0.1' });
    this.track(upstream);
    const onFailure = () => {
      upstream.destroy();
      this.tryUpstream(client, order, index + 1);
    };
    upstream.once('error', onFailure);
    upstream.once('connect', () => {
      upstream.removeListener('error', onFailure);
      if (client.destroyed) {
        upstream.destroy();
        return;
      }
      const link: Link = { client, upstream, port, frozen: false };
      this.links.add(link);
      upstream.on('error', () => undefined);
      // A clean close on one side ends the other after its buffered bytes are flushed (so a
      // goodbye like server_restart still reaches the client); an abrupt one is passed on as such.
      const onClose = (other: Socket) => (hadError: boolean) => {
        this.links.delete(link);
        if (hadError) other.destroy();
        else other.end();
      };
      client.on('close', onClose(upstream));
      upstream.on('close', onClose(client));
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
  }
}
