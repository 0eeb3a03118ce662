/**
 * The web console in real headless Chromium against the real stack: the three built services on a
 * throw-away database and unique topics of the shared broker, the console server, and a TCP proxy
 * between the page and the gateway so the test can cut the page's connection for real. The page
 * runs the SDK's browser bundle and @seqcast/react's useRoom.
 *
 * Checked: sign-in with a development token, join, publish through the page, ordered delivery
 * (seq increasing, each prevSeq naming the message before), and after the connection is cut while
 * messages keep being published: reconnect, resume and replay of exactly the missed messages,
 * matching the room's history as ingest-api serves it. A second page behind a proxy that refuses
 * WebSocket upgrades still connects and receives, over long-polling (tryAllTransports).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { signToken } from '@seqcast/auth';
import {
  TEST_JWT_SECRET,
  createTestDatabase,
  freePort,
  startTcpProxy,
  testKafkaBrokers,
  type TcpProxy,
  type TestDatabase,
  uniqueTopics,
  waitFor,
} from '@seqcast/testing';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './support/browser';
import { startNoWebSocketProxy } from './support/no-websocket-proxy';
import { NodeProcess, workspaceRoot } from './support/processes';

interface Row {
  seq: number;
  prevSeq: number | null;
  replayed: boolean;
  payload: string;
}

let database: TestDatabase;
let processes: NodeProcess[] = [];
let ingest: NodeProcess;
let consoleServer: NodeProcess;
let proxy: TcpProxy;
let browser: Browser;
let gatewayPort: number;

beforeAll(async () => {
  database = await createTestDatabase();
  const topics = uniqueTopics('console');
  const run = Math.random().toString(16).slice(2, 8);
  let workerPort: number, ingestPort: number, consolePort: number;
  [workerPort, ingestPort, gatewayPort, consolePort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  // Probes and /metrics are on a management port of each service's own (not the defaults 9000-9002).
  const [workerMgmt, ingestMgmt, gatewayMgmt] = await Promise.all([freePort(), freePort(), freePort()]);
  const consoleOrigin = `http://127.0.0.1:${consolePort}`;
  const env = {
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    KAFKA_BROKERS: testKafkaBrokers().join(','),
    SEQCAST_MESSAGES_TOPIC: topics.messagesTopic,
    SEQCAST_EVENTS_TOPIC: topics.eventsTopic,
    SEQCAST_PARTITIONS: '3',
    DATABASE_URL: database.url,
    SEQCAST_JWT_SECRET: TEST_JWT_SECRET,
    WORKER_GROUP_ID: `console-worker-${run}`,
  };
  const worker = new NodeProcess(`console-worker-${run}`, 'dist/apps/ordering-worker/main.js', workerPort, { ...env, PORT: String(workerPort), MANAGEMENT_PORT: String(workerMgmt) });
  ingest = new NodeProcess(`console-ingest-${run}`, 'dist/apps/ingest-api/main.js', ingestPort, { ...env, PORT: String(ingestPort), MANAGEMENT_PORT: String(ingestMgmt) });
  const gateway = new NodeProcess(`console-gateway-${run}`, 'dist/apps/edge-gateway/main.js', gatewayPort, {
    ...env,
    PORT: String(gatewayPort),
    MANAGEMENT_PORT: String(gatewayMgmt),
    GATEWAY_INSTANCE_ID: `console-gw-${run}`,
    // Only the console's origin, as start-local configures it: the page must pass the gateway's CORS.
    SEQCAST_ALLOWED_ORIGINS: consoleOrigin,
  });
  processes = [worker, ingest, gateway];
  // The worker creates the schema and topics first.
  await worker.start();
  await Promise.all([ingest.start(), gateway.start()]);
  proxy = await startTcpProxy({ host: '127.0.0.1', port: gatewayPort });
  consoleServer = new NodeProcess(
    `console-server-${run}`,
    'apps/web-console/server/console-server.cjs',
    consolePort,
    {
      NODE_ENV: 'development',
      CONSOLE_PORT: String(consolePort),
      INGEST_URL: ingest.url,
      GATEWAY_URL: `http://127.0.0.1:${proxy.port}`,
      SEQCAST_JWT_SECRET: TEST_JWT_SECRET,
    },
    '/healthz',
  );
  processes.push(consoleServer);
  await consoleServer.start();
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await proxy?.close();
  await Promise.all(processes.map((p) => p.stop()));
  await database?.drop();
});

async function openConsole(): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 820 } });
  page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
  await page.goto(consoleServer.url);
  return page;
}

async function signInAndJoin(page: Page, roomId: string): Promise<void> {
  await page.fill('input[name="dev-user"]', 'alice');
  await page.click('button[name="dev-token"]');
  await page.waitForSelector('[data-testid="connection-state"]:text-is("connected")', { timeout: 30_000 });
  await page.fill('input[name="room"]', roomId);
  await page.click('button[name="join"]');
  await page.waitForSelector(`[data-room="${roomId}"] [data-testid="room-status"]:text-is("live")`, { timeout: 30_000 });
}

async function publishFromPage(page: Page, roomId: string, payload: unknown): Promise<void> {
  const panel = page.locator(`[data-room="${roomId}"]`);
  const result = panel.locator('[data-testid="publish-result"]');
  const before = (await result.count()) > 0 ? await result.textContent() : null;
  await panel.locator('textarea[name="payload"]').fill(JSON.stringify(payload));
  await panel.locator('button[name="publish"]').click();
  // Each accepted publish names a new offset, so the text changes once this one is answered.
  await waitFor(async () => {
    const text = (await result.count()) > 0 ? await result.textContent() : null;
    if (text && text !== before && !text.startsWith('accepted')) throw new Error(`publish failed in the page: ${text}`);
    return text !== null && text !== before && text.startsWith('accepted');
  }, { timeoutMs: 30_000, what: `the page's publish of ${JSON.stringify(payload)} to be accepted` });
}

async function rows(page: Page, roomId: string): Promise<Row[]> {
  return page.$$eval(`[data-room="${roomId}"] tbody tr`, (trs) =>
    trs.map((tr) => {
      const prev = tr.getAttribute('data-prev-seq');
      return {
        seq: Number(tr.getAttribute('data-seq')),
        prevSeq: prev === '' || prev === null ? null : Number(prev),
        replayed: tr.getAttribute('data-replayed') === 'true',
        payload: tr.querySelector('td.payload')?.textContent ?? '',
      };
    }),
  );
}

async function history(roomId: string): Promise<Array<{ seq: number; prevSeq: number | null; payload: unknown }>> {
  const token = signToken({ sub: 'console-e2e', rooms: ['*'] }, TEST_JWT_SECRET);
  const res = await fetch(`${ingest.url}/v1/rooms/${encodeURIComponent(roomId)}/messages?afterSeq=-1&limit=1000`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { messages: Array<{ seq: number; prevSeq: number | null; payload: unknown }> }).messages;
}

function expectChained(list: Row[]): void {
  for (let i = 1; i < list.length; i++) {
    expect({ at: i, seq: list[i].seq > list[i - 1].seq, prevSeq: list[i].prevSeq }).toEqual({ at: i, seq: true, prevSeq: list[i - 1].seq });
  }
}

describe('web console in headless Chromium', () => {
  it('delivers in order, and after its connection is cut resumes and replays exactly what it missed', async () => {
    const roomId = `console-${Math.random().toString(16).slice(2, 8)}:general`;
    const page = await openConsole();
    await signInAndJoin(page, roomId);
    expect(await page.textContent('[data-testid="user"]')).toBe('alice');

    for (let n = 1; n <= 5; n++) await publishFromPage(page, roomId, { n, text: `before the cut #${n}` });
    await waitFor(async () => (await rows(page, roomId)).length === 5, { timeoutMs: 30_000, what: 'the first 5 messages on the page' });
    const live = await rows(page, roomId);
    expect(live[0].prevSeq).toBeNull(); // a fresh room: its first message has no predecessor
    expectChained(live);
    expect(live.every((r) => !r.replayed)).toBe(true);

    // Pull the plug between the page and the gateway (established connection reset, new ones
    // refused) and keep publishing through the page: ingest is reached on another path.
    await proxy.cut();
    await page.waitForSelector('[data-testid="connection-state"]:text-matches("reconnecting|connecting")', { timeout: 60_000 });
    for (let n = 6; n <= 10; n++) await publishFromPage(page, roomId, { n, text: `while cut #${n}` });
    expect(await rows(page, roomId)).toHaveLength(5);
    // All ten are sequenced and stored before the plug goes back in, so the five the page missed
    // can only reach it by replay, not live.
    await waitFor(async () => (await history(roomId)).length === 10, { timeoutMs: 60_000, what: 'the 10 messages in the room history' });

    await proxy.restore();
    await page.waitForSelector('[data-testid="connection-state"]:text-is("connected")', { timeout: 60_000 });
    await waitFor(async () => (await rows(page, roomId)).length >= 10, { timeoutMs: 60_000, what: 'the 5 missed messages to be replayed' });
    for (let n = 11; n <= 12; n++) await publishFromPage(page, roomId, { n, text: `after the resume #${n}` });
    await waitFor(async () => (await rows(page, roomId)).length >= 12, { timeoutMs: 30_000, what: 'live delivery after the resume' });

    const all = await rows(page, roomId);
    expectChained(all);
    expect(all.map((r) => (JSON.parse(r.payload) as { n: number }).n)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    // Exactly the messages published while cut came by replay.
    expect(all.map((r) => r.replayed)).toEqual([false, false, false, false, false, true, true, true, true, true, false, false]);
    expect(Number((await page.textContent('[data-testid="reconnects"]'))?.replace(/\D+/g, ''))).toBeGreaterThanOrEqual(1);
    const stored = await history(roomId);
    expect(all.map((r) => [r.seq, r.prevSeq])).toEqual(stored.map((m) => [m.seq, m.prevSeq]));
    expect(await page.textContent(`[data-room="${roomId}"] [data-testid="room-stats"]`)).toContain('chain intact');

    const shot = join(workspaceRoot, 'tmp/web-console.png');
    mkdirSync(join(workspaceRoot, 'tmp'), { recursive: true });
    await page.screenshot({ path: shot });
    // The README's picture is refreshed on request only, so test runs leave the work tree alone.
    if (process.env['SEQCAST_UPDATE_SCREENSHOT'] === '1') await page.screenshot({ path: join(workspaceRoot, 'docs/images/web-console.png') });
    console.log(
      `web console: ${all.length} messages in seq order, chain intact, ${all.filter((r) => r.replayed).length} replayed after the cut; screenshot ${shot}`,
    );
    await page.close();
  });

  it('falls back to long-polling when a proxy refuses WebSockets', async () => {
    const roomId = `console-${Math.random().toString(16).slice(2, 8)}:polling`;
    const blocking = await startNoWebSocketProxy(gatewayPort);
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 820 } });
      // This page reaches the gateway only through the proxy that resets WebSocket upgrades.
      await page.route('**/config.json', (route) => route.fulfill({ json: { gatewayUrl: blocking.url, devTokens: true } }));
      const polls: string[] = [];
      page.on('request', (req) => {
        if (req.url().startsWith(blocking.url) && req.url().includes('transport=polling')) polls.push(req.url());
      });
      await page.goto(consoleServer.url);
      await signInAndJoin(page, roomId);
      await publishFromPage(page, roomId, { n: 1 });
      await publishFromPage(page, roomId, { n: 2 });
      await waitFor(async () => (await rows(page, roomId)).length === 2, { timeoutMs: 30_000, what: 'delivery over long-polling' });
      expectChained(await rows(page, roomId));
      expect(blocking.upgradesRefused()).toBeGreaterThanOrEqual(1);
      expect(polls.length).toBeGreaterThan(0);
      expect(await page.textContent('[data-testid="reconnects"]')).toBe('reconnects: 0');
      await page.close();
    } finally {
      await blocking.close();
    }
  });
});
