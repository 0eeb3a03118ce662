import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { waitFor } from '@seqcast/testing';
import { ServiceBalancer } from './balancer';

/** A backend that answers every chunk with its own name, so a client sees where it landed. */
async function namedBackend(name: string): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => socket.on('data', () => socket.write(name)));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port };
}

describe('ServiceBalancer', () => {
  const servers: Server[] = [];
  const sockets: Socket[] = [];
  let balancer: ServiceBalancer;

  afterEach(async () => {
    for (const s of sockets) s.destroy();
    await balancer?.close();
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    servers.length = 0;
  });

  async function backends(...names: string[]): Promise<number[]> {
    const started = await Promise.all(names.map(namedBackend));
    servers.push(...started.map((b) => b.server));
    return started.map((b) => b.port);
  }

  /** Connects through the balancer and asks once: the backend's name. */
  async function ask(socket?: Socket): Promise<{ socket: Socket; answer: string }> {
    const s = socket ?? connect(balancer.port, '127.0.0.1');
    if (!socket) {
      sockets.push(s);
      await once(s, 'connect');
    }
    let answer = '';
    const onData = (chunk: Buffer) => (answer += chunk.toString());
    s.on('data', onData);
    s.write('?');
    await waitFor(() => answer.length > 0, { timeoutMs: 5000, what: 'an answer through the balancer' });
    s.off('data', onData);
    return { socket: s, answer };
  }

  it('sends new connections round robin to its endpoints', async () => {
    const [a, b] = await backends('A', 'B');
    balancer = await ServiceBalancer.listen(0, [a, b]);
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push((await ask()).answer);
    expect(answers).toEqual(['A', 'B', 'A', 'B']);
  });

  it('keeps an established connection on a removed endpoint and sends new ones to the rest', async () => {
    const [oldPort, newPort] = await backends('old', 'new');
    balancer = await ServiceBalancer.listen(0, [oldPort]);
    const established = await ask();
    expect(established.answer).toBe('old');

    balancer.add(newPort);
    balancer.remove(oldPort);
    expect((await ask(established.socket)).answer).toBe('old');
    expect((await ask()).answer).toBe('new');
  });

  it('resets connections while it has no endpoint', async () => {
    const [only] = await backends('only');
    balancer = await ServiceBalancer.listen(0, [only]);
    balancer.remove(only);
    const socket = connect(balancer.port, '127.0.0.1');
    sockets.push(socket);
    let error: string | undefined;
    socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code));
    // events.once would reject on the 'error' that comes first.
    await new Promise((resolve) => socket.once('close', resolve));
    expect(error).toBe('ECONNRESET');
  });
});
