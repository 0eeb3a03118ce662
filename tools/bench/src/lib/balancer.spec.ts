import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { Balancer } from './balancer';

/** An upstream that greets each connection with its name and echoes what it gets, prefixed. */
async function upstream(name: string): Promise<Server> {
  const server = createServer((socket) => {
    socket.write(`${name}:hello;`);
    socket.on('data', (data) => socket.write(`${name}:${data.toString()};`));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return server;
}

const portOf = (server: Server) => (server.address() as AddressInfo).port;

/** A client through the balancer that collects everything it reads. */
async function client(balancer: Balancer): Promise<{ socket: Socket; read: () => string; until: (text: string) => Promise<void> }> {
  const socket = connect({ port: Number(new URL(balancer.url).port), host: '127.0.0.1' });
  let text = '';
  const waiters: Array<() => void> = [];
  socket.on('data', (data) => {
    text += data.toString();
    for (const w of waiters.splice(0)) w();
  });
  const until = async (expected: string) => {
    while (!text.includes(expected)) await new Promise<void>((resolve) => waiters.push(resolve));
  };
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return { socket, read: () => text, until };
}

describe('Balancer', () => {
  const servers: Server[] = [];
  const sockets: Socket[] = [];
  let balancer: Balancer | undefined;

  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await balancer?.close();
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  });

  it('sends new connections to the switched-to upstream and leaves established ones where they are', async () => {
    const [a, b] = [await upstream('a'), await upstream('b')];
    servers.push(a, b);
    balancer = await Balancer.start(portOf(a));

    const first = await client(balancer);
    sockets.push(first.socket);
    await first.until('a:hello;');

    balancer.switchTo(portOf(b));
    const second = await client(balancer);
    sockets.push(second.socket);
    await second.until('b:hello;');

    first.socket.write('ping');
    await first.until('a:ping;');
    expect(first.read()).toBe('a:hello;a:ping;');
    expect(second.read()).toBe('b:hello;');
  });

  it('passes an upstream close on to the client, after the bytes written before it', async () => {
    const goodbye = createServer((socket) => socket.end('bye'));
    await new Promise<void>((resolve) => goodbye.listen(0, '127.0.0.1', () => resolve()));
    servers.push(goodbye);
    balancer = await Balancer.start(portOf(goodbye));

    const c = await client(balancer);
    sockets.push(c.socket);
    await new Promise<void>((resolve) => c.socket.once('close', () => resolve()));
    expect(c.read()).toBe('bye');
  });
});
