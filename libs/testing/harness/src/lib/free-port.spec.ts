import { createServer } from 'node:net';
import { ephemeralPortFloor, freePort, portFree } from './free-port';

describe('freePort', () => {
  it('gives a bindable port below the ephemeral range', async () => {
    const port = await freePort();
    expect(port).toBeLessThan(ephemeralPortFloor());
    expect(port).toBeGreaterThanOrEqual(12_000);
    expect(await portFree(port)).toBe(true);
  });

  it('sees a port that is listened on as taken', async () => {
    const port = await freePort();
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    try {
      expect(await portFree(port)).toBe(false);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
