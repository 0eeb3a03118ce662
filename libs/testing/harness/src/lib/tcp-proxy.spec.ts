import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { startTcpProxy, type TcpProxy } from './tcp-proxy';
import { waitFor } from './wait-for';

describe('startTcpProxy', () => {
  let echo: Server;
  let proxy: TcpProxy;
  const clients: Socket[] = [];

  beforeEach(async () => {
    echo = createServer((socket) => socket.pipe(socket));
    echo.listen(0, '127.0.0.1');
    await once(echo, 'listening');
    proxy = await startTcpProxy({ host: '127.0.0.1', port: (echo.address() as AddressInfo).port });
  });
  afterEach(async () => {
    for (const c of clients) c.destroy();
    await proxy.close();
    await new Promise((resolve) => echo.close(resolve));
  });

  async function client(): Promise<{ socket: Socket; received: () => string }> {
    const socket = connect(proxy.port, '127.0.0.1');
    clients.push(socket);
    let text = '';
    socket.on('data', (chunk) => (text += chunk.toString()));
    await once(socket, 'connect');
    return { socket, received: () => text };
  }

  it('passes bytes through in order, also with a delay', async () => {
    const c = await client();
    c.socket.write('a');
    await waitFor(() => c.received() === 'a', { timeoutMs: 5000, what: 'echo' });
    proxy.setDelay(50);
    const sentAt = Date.now();
    c.socket.write('b');
    c.socket.write('c');
    await waitFor(() => c.received() === 'abc', { timeoutMs: 5000, what: 'delayed echo' });
    // There and back: two delayed hops.
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(90);
  });

  it('drops bytes silently while blackholed, keeping the connection open, then carries on', async () => {
    const c = await client();
    proxy.blackhole(true);
    c.socket.write('lost');
    const other = await client(); // accepted, but nothing reaches the target
    other.socket.write('also lost');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(c.received()).toBe('');
    expect(other.received()).toBe('');
    expect(c.socket.destroyed).toBe(false);
    proxy.blackhole(false);
    c.socket.write('back');
    await waitFor(() => c.received() === 'back', { timeoutMs: 5000, what: 'echo after the blackhole' });
  });

  it('resets connections on cut and accepts new ones after restore', async () => {
    const c = await client();
    const closed = once(c.socket, 'close');
    await proxy.cut();
    await closed;
    await proxy.restore();
    const again = await client();
    again.socket.write('x');
    await waitFor(() => again.received() === 'x', { timeoutMs: 5000, what: 'echo after restore' });
  });
});
