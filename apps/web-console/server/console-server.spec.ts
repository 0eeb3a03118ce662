/**
 * The console's dev server over real HTTP on 127.0.0.1: static files, the same-origin forward to
 * ingest-api (a node:http stand-in records what arrives), and development tokens, which must be
 * impossible in production.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as jwt from 'jsonwebtoken';

const { createConsoleServer, fromEnvironment, DEV_JWT_SECRET } = require('./console-server.cjs') as {
  createConsoleServer: (options: { staticDir: string; ingestUrl: string; gatewayUrl: string; devTokenSecret?: string }) => Server;
  fromEnvironment: (env: Record<string, string | undefined>) => { devTokenSecret?: string; port: number };
  DEV_JWT_SECRET: string;
};

const servers: Server[] = [];
async function listen(server: Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterAll(async () => {
  await Promise.all(
    servers.map(
      (s) =>
        new Promise<void>((resolve) => {
          s.closeAllConnections();
          s.close(() => resolve());
        }),
    ),
  );
});

const staticDir = mkdtempSync(join(tmpdir(), 'console-static-'));
writeFileSync(join(staticDir, 'index.html'), '<h1>console</h1>');

async function consoleAt(devTokenSecret: string | undefined, ingestUrl = 'http://127.0.0.1:1'): Promise<string> {
  return listen(createConsoleServer({ staticDir, ingestUrl, gatewayUrl: 'http://gw.test:3001', devTokenSecret }));
}

describe('console server', () => {
  it('serves the page for any path and tells the page where the gateway is', async () => {
    const url = await consoleAt('s');
    const page = await fetch(`${url}/rooms/anything`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toBe('<h1>console</h1>');
    expect(await (await fetch(`${url}/config.json`)).json()).toEqual({ gatewayUrl: 'http://gw.test:3001', devTokens: true });
  });

  it('never serves a file outside its directory', async () => {
    const url = await consoleAt('s');
    const res = await fetch(`${url}/%2e%2e/%2e%2e/etc/passwd`);
    expect(await res.text()).not.toContain('root:');
  });

  it('mints an HS256 development token with the asked subject and rooms', async () => {
    const url = await consoleAt('dev-secret');
    const res = await fetch(`${url}/dev-token`, { method: 'POST', body: JSON.stringify({ sub: 'alice', rooms: ['team-42:*'] }) });
    expect(res.status).toBe(200);
    const { token } = (await res.json()) as { token: string };
    const claims = jwt.verify(token, 'dev-secret', { algorithms: ['HS256'] }) as jwt.JwtPayload;
    expect(claims).toMatchObject({ sub: 'alice', rooms: ['team-42:*'] });
    expect((claims.exp as number) - (claims.iat as number)).toBe(3600);
  });

  it('answers bad dev-token requests with 400 and the reason', async () => {
    const url = await consoleAt('dev-secret');
    const res = await fetch(`${url}/dev-token`, { method: 'POST', body: JSON.stringify({ sub: 'a', rooms: 'everything' }) });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: { code: 'invalid_request', message: expect.stringContaining('rooms must be') } });
    expect((await fetch(`${url}/dev-token`, { method: 'POST', body: '{' })).status).toBe(400);
  });

  it('has no development tokens in production, whatever secret is configured', async () => {
    const settings = fromEnvironment({ NODE_ENV: 'production', SEQCAST_JWT_SECRET: 'configured' });
    expect(settings.devTokenSecret).toBeUndefined();
    expect(fromEnvironment({}).devTokenSecret).toBe(DEV_JWT_SECRET);
    expect(fromEnvironment({ SEQCAST_JWT_SECRET: 'mine' }).devTokenSecret).toBe('mine');
    const url = await consoleAt(settings.devTokenSecret);
    expect(await (await fetch(`${url}/config.json`)).json()).toMatchObject({ devTokens: false });
    const res = await fetch(`${url}/dev-token`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: 'not_found' } });
  });

  it('forwards /v1/* to ingest-api with method, path, headers and body, and relays the answer', async () => {
    const seen: Array<{ method?: string; url?: string; authorization?: string; body: string }> = [];
    const ingest = await listen(
      createServer((req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          seen.push({ method: req.method, url: req.url, authorization: req.headers.authorization, body });
          res.writeHead(202, { 'content-type': 'application/json' });
          res.end('{"offset":7}');
        });
      }),
    );
    const url = await consoleAt(undefined, ingest);
    const res = await fetch(`${url}/v1/rooms/r%3A1/messages`, {
      method: 'POST',
      headers: { authorization: 'Bearer t', 'content-type': 'application/json' },
      body: '{"clientMsgId":"c1","payload":1}',
    });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ offset: 7 });
    expect(seen).toEqual([{ method: 'POST', url: '/v1/rooms/r%3A1/messages', authorization: 'Bearer t', body: '{"clientMsgId":"c1","payload":1}' }]);
  });

  it('answers 502 with a clear message when ingest-api is down', async () => {
    const url = await consoleAt(undefined, 'http://127.0.0.1:1');
    const res = await fetch(`${url}/v1/rooms/r/messages`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({ error: { code: 'unavailable', message: expect.stringContaining('ingest-api at http://127.0.0.1:1') } });
  });
});
