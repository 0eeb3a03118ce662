/**
 * The gateway's limits and origin allowlist against real sockets (real broker and database):
 * connections per principal and per address refused with `too_many_connections`, subscriptions per
 * socket and subscribe/unsubscribe churn refused with failed acks, and a page from
 * `http://evil.example` refused on both the polling and the WebSocket transport.
 */
import { request as httpRequest } from 'node:http';
import { randomBytes } from 'node:crypto';
import { waitFor } from '@seqcast/testing';
import { connectError, GatewayHarness, metricValue, room } from '../testing';
import { NO_LIMITS } from './gateway-limits';

const ALLOWED = 'https://app.example.com';
const LIMIT_METRIC = 'seqcast_gateway_limit_rejections_total';

/** A raw WebSocket upgrade: 101 when engine.io takes it, the HTTP status and body it answers otherwise. */
function upgrade(port: number, origin: string | undefined): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: '127.0.0.1',
      port,
      path: '/socket.io/?EIO=4&transport=websocket',
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': randomBytes(16).toString('base64'),
        ...(origin ? { origin } : {}),
      },
    });
    req.on('upgrade', (response, socket) => {
      socket.destroy();
      resolve({ status: response.statusCode ?? 0, body: '' });
    });
    req.on('response', (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('gateway limits and origins (real Kafka and PostgreSQL)', () => {
  let harness: GatewayHarness;

  beforeAll(async () => {
    harness = await GatewayHarness.start({
      allowedOrigins: [ALLOWED],
      limits: {
        ...NO_LIMITS,
        connections: { maxPerPrincipal: 2, maxPerAddress: 3 },
        subscriptions: { maxPerSocket: 2, opsPerMinute: 8 },
      },
    });
  });

  afterAll(async () => {
    await harness?.stop();
  });

  it('refuses Origin http://evil.example on polling (403) and WebSocket (400), and serves the allowed origin', async () => {
    const before = await metricValue(LIMIT_METRIC, { limit: 'origin' });
    const polling = (origin?: string) =>
      fetch(`${harness.url}/socket.io/?EIO=4&transport=polling`, { headers: origin ? { origin } : {} });

    const evil = await polling('http://evil.example');
    expect(evil.status).toBe(403);
    expect(await evil.json()).toEqual({ code: 4, message: 'origin not allowed' });
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
    // engine.io refuses every upgrade with 400, the reason in the body.
    expect(await upgrade(harness.port, 'http://evil.example')).toEqual({ status: 400, body: 'origin not allowed' });
    expect(await metricValue(LIMIT_METRIC, { limit: 'origin' })).toBe(before + 2);

    const allowed = await polling(ALLOWED);
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    await allowed.text();
    expect((await upgrade(harness.port, ALLOWED)).status).toBe(101);
    // Not a browser: no Origin, no refusal.
    expect((await upgrade(harness.port, undefined)).status).toBe(101);
  });

  it('refuses a third socket of one principal, then a fourth from one address, and frees slots on disconnect', async () => {
    const beforePrincipal = await metricValue(LIMIT_METRIC, { limit: 'connections_per_principal' });
    const beforeAddress = await metricValue(LIMIT_METRIC, { limit: 'connections_per_ip' });
    const first = await harness.client([room('c')], { sub: 'alice' });
    await harness.client([room('c')], { sub: 'alice' });
    const third = harness.connect({ token: harness.token([room('c')], 'alice') });
    expect(await connectError(third)).toBe('too_many_connections');
    expect(await metricValue(LIMIT_METRIC, { limit: 'connections_per_principal' })).toBe(beforePrincipal + 1);

    await harness.client([room('c')], { sub: 'bob' });
    const carol = harness.connect({ token: harness.token([room('c')], 'carol') });
    expect(await connectError(carol)).toBe('too_many_connections');
    expect(await metricValue(LIMIT_METRIC, { limit: 'connections_per_ip' })).toBe(beforeAddress + 1);

    first.socket.disconnect();
    await waitFor(
      async () => {
        const again = harness.connect({ token: harness.token([room('c')], 'alice') });
        const connected = await new Promise<boolean>((resolve) => {
          again.once('connect', () => resolve(true));
          again.once('connect_error', () => resolve(false));
        });
        if (!connected) again.close();
        return connected;
      },
      { timeoutMs: 10_000, what: "alice's freed slot" },
    );
  });
});

describe('gateway per-socket subscription limits (real Kafka and PostgreSQL)', () => {
  let harness: GatewayHarness;

  beforeAll(async () => {
    harness = await GatewayHarness.start({
      limits: { ...NO_LIMITS, subscriptions: { maxPerSocket: 2, opsPerMinute: 8 } },
    });
  });

  afterAll(async () => {
    await harness?.stop();
  });

  it('holds a socket to its subscription count and its churn budget, with failed acks', async () => {
    const [r1, r2, r3] = [room('s1'), room('s2'), room('s3')];
    const { socket } = await harness.client([r1, r2, r3]);
    expect(await harness.subscribe(socket, { roomId: r1 })).toMatchObject({ ok: true });
    expect(await harness.subscribe(socket, { roomId: r2 })).toMatchObject({ ok: true });
    expect(await harness.subscribe(socket, { roomId: r3 })).toEqual({
      ok: false,
      error: { code: 'limit_exceeded', message: expect.stringContaining('maximum of 2 subscriptions') },
    });
    // Already held: no new slot needed.
    expect(await harness.subscribe(socket, { roomId: r1 })).toMatchObject({ ok: true });
    const unsubscribed = await socket.timeout(10_000).emitWithAck('unsubscribe', { roomId: r2 });
    expect(unsubscribed).toEqual({ ok: true, roomId: r2 });
    expect(await harness.subscribe(socket, { roomId: r3 })).toMatchObject({ ok: true });

    // 6 of 8 requests spent; the 9th is refused, and the socket stays connected.
    expect(await harness.subscribe(socket, { roomId: r3 })).toMatchObject({ ok: true });
    expect(await harness.subscribe(socket, { roomId: r3 })).toMatchObject({ ok: true });
    const before = await metricValue(LIMIT_METRIC, { limit: 'subscribe_churn' });
    expect(await harness.subscribe(socket, { roomId: r3 })).toEqual({
      ok: false,
      error: { code: 'rate_limited', message: expect.stringContaining('per minute') },
    });
    expect(await metricValue(LIMIT_METRIC, { limit: 'subscribe_churn' })).toBe(before + 1);
    expect(socket.connected).toBe(true);
  });
});
