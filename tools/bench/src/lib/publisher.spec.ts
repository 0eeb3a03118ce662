import { publishSockets } from './publisher';

describe('publishSockets', () => {
  it('defaults to 256 and takes a positive integer', () => {
    expect(publishSockets(undefined)).toBe(256);
    expect(publishSockets(' ')).toBe(256);
    expect(publishSockets('1024')).toBe(1024);
  });

  it('refuses anything else with the variable named', () => {
    expect(() => publishSockets('0')).toThrow('BENCH_PUBLISH_SOCKETS');
    expect(() => publishSockets('lots')).toThrow('positive integer');
  });
});

describe('Publisher.warmConnections', () => {
  it('leaves the agent holding the connections it was asked to open', async () => {
    const { createServer } = await import('node:http');
    const { Publisher } = await import('./publisher');
    // Answered only once all five are in: they overlap, so each needs a connection of its own.
    const waiting: Array<() => void> = [];
    const server = createServer((_request, response) => {
      waiting.push(() => response.end('ok'));
      if (waiting.length === 5) waiting.splice(0).forEach((answer) => answer());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const publisher = new Publisher({ kind: 'seqcast', url: `http://127.0.0.1:${port}`, token: 't', run: 'r' });
    try {
      expect(await publisher.warmConnections(5)).toBe(5);
    } finally {
      publisher.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
