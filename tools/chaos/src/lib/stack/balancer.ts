/**
 * A Kubernetes Service in miniature, in front of one service's processes: each new connection goes
 * to the next of the current endpoints (round robin); an established connection stays with its
 * process until either end closes it, as kube-proxy's connection tracking keeps it. A process
 * leaves the endpoints when it starts terminating, so a surge roll (new process ready, then the
 * old one drained) is what the chart's `maxSurge: 1, maxUnavailable: 0` rollout does. With no
 * endpoint a connection is reset at once, like a Service without ready pods.
 */
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';

export class ServiceBalancer {
  private endpoints: number[] = [];
  private next = 0;
  private readonly sockets = new Set<Socket>();

  private readonly server: Server = createServer((client) => this.forward(client));
  private listeningPort = 0;

  private constructor(endpoints: number[]) {
    this.endpoints = [...endpoints];
  }

  /** Listens on `port` (0: any free one) of 127.0.0.1, forwarding to 127.0.0.1:<endpoint>. */
  static async listen(port: number, endpoints: number[]): Promise<ServiceBalancer> {
    const balancer = new ServiceBalancer(endpoints);
    await new Promise<void>((resolve, reject) => {
      balancer.server.once('error', reject);
      balancer.server.listen(port, '127.0.0.1', () => resolve());
    });
    balancer.listeningPort = (balancer.server.address() as AddressInfo).port;
    return balancer;
  }

  get port(): number {
    return this.listeningPort;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** A process became ready: new connections may go to it. */
  add(endpoint: number): void {
    if (!this.endpoints.includes(endpoint)) this.endpoints.push(endpoint);
  }

  /** A process is terminating: no new connection goes to it; established ones stay. */
  remove(endpoint: number): void {
    this.endpoints = this.endpoints.filter((e) => e !== endpoint);
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  private forward(client: Socket): void {
    if (this.endpoints.length === 0) {
      client.resetAndDestroy();
      return;
    }
    const endpoint = this.endpoints[this.next++ % this.endpoints.length];
    const upstream = connect(endpoint, '127.0.0.1');
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => socket.destroy());
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
