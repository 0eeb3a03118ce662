/**
 * The SSE transport against the real broker and PostgreSQL, driven by a standard EventSource
 * client (the `eventsource` package) over real HTTP: a stream replays history then goes live; a
 * connection cut by the network is resumed by EventSource itself with Last-Event-ID, exactly
 * after the last event it got (no gap, no duplicate, order kept); a cursor from another epoch is
 * reset; refusals are clear HTTP errors; and a drain ends the stream with a retry hint after
 * which the client comes back on its own.
 */
import type { ErrorBody, ErrorEnvelope, Message, SubscribeOk } from '@seqcast/contracts';
import { waitFor } from '@seqcast/testing';
import { EventSource } from 'eventsource';
import { GatewayHarness, metricValue, room, TcpProxy } from '../testing';
import { SseStreams } from './sse/sse-streams.service';

const RETRY_MS = 100;

let gw: GatewayHarness;
const proxies: TcpProxy[] = [];
const sources: EventSource[] = [];

beforeAll(async () => {
  gw = await GatewayHarness.start({
    subscriptions: { historyPageSize: 25 },
    sse: { heartbeatMs: 250, retryMs: RETRY_MS },
    allowedOrigins: ['https://app.example.com'],
  });
});

afterAll(async () => {
  for (const source of sources) source.close();
  for (const proxy of proxies) await proxy.close();
  await gw?.stop();
});

interface SseClient {
  source: EventSource;
  messages: Message[];
  /** The lastEventId of each message event, as EventSource reports it. */
  ids: string[];
  subscribed: SubscribeOk[];
  opens: number;
  /** Named events other than `subscribed`, in order. */
  named: { type: string; data: unknown }[];
}

/** An EventSource with the token in the Authorization header (the `eventsource` package's fetch hook). */
function sseClient(url: string, token: string): SseClient {
  const source = new EventSource(url, {
    fetch: (input, init) => fetch(input, { ...init, headers: { ...init.headers, Authorization: `Bearer ${token}` } }),
  });
  sources.push(source);
  const client: SseClient = { source, messages: [], ids: [], subscribed: [], opens: 0, named: [] };
  source.addEventListener('open', () => client.opens++);
  source.addEventListener('message', (event) => {
    client.messages.push(JSON.parse(event.data) as Message);
    client.ids.push(event.lastEventId);
  });
  source.addEventListener('subscribed', (event) => client.subscribed.push(JSON.parse(event.data) as SubscribeOk));
  for (const type of ['server_restart', 'unavailable', 'slow_consumer', 'token_expired']) {
    source.addEventListener(type, (event) => client.named.push({ type, data: JSON.parse(event.data) }));
  }
  return client;
}

function eventsUrl(base: string, roomId: string, query = ''): string {
  return `${base}/v1/rooms/${encodeURIComponent(roomId)}/events${query ? `?${query}` : ''}`;
}

/** Seqs in arrival order must be exactly `expected`, chained by prevSeq, each id `<epoch>:<seq>`. */
function expectExactStream(client: SseClient, expected: Message[]): void {
  expect(client.messages.map((m) => m.seq)).toEqual(expected.map((m) => m.seq));
  for (let i = 1; i < client.messages.length; i++) expect(client.messages[i].prevSeq).toBe(client.messages[i - 1].seq);
  expect(client.ids).toEqual(expected.map((m) => `${gw.epoch}:${m.seq}`));
}

async function errorOf(response: Response): Promise<ErrorBody> {
  return ((await response.json()) as ErrorEnvelope).error;
}

/** Reads a raw stream until `until` appears in it (or it ends), then cancels it. */
async function readUntil(response: Response, until: string): Promise<string> {
  const body = response.body;
  if (!body) throw new Error('no response body');
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  while (!text.includes(until)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  await reader.cancel();
  return text;
}

describe('SSE transport', () => {
  it('replays after afterSeq, goes live, and resumes exactly after Last-Event-ID when the connection is cut', async () => {
    const roomId = room('team-sse');
    const history = gw.sequence(roomId, 60);
    await gw.commit(history);
    const proxy = await TcpProxy.start(gw.port);
    proxies.push(proxy);
    const resumesBefore = await metricValue('seqcast_gateway_sse_streams_opened_total', {
      token_source: 'header',
      resume: 'last-event-id',
    });

    const client = sseClient(eventsUrl(proxy.url, roomId, `afterSeq=${history[9].seq}&epoch=${gw.epoch}`), gw.token(['team-*']));
    await waitFor(() => client.messages.length >= 50, { what: 'the replay' });
    expect(client.subscribed[0]).toEqual({ ok: true, roomId, epoch: gw.epoch, headSeq: history[59].seq });
    const live = await gw.commitAndPublish(roomId, 15);
    await waitFor(() => client.messages.length >= 65, { what: 'live messages' });

    // The network fails; messages keep coming meanwhile, some while EventSource is reconnecting.
    proxy.cut();
    const whileCut = await gw.commitAndPublish(roomId, 20);
    await waitFor(() => client.opens >= 2, { what: 'the EventSource reconnect' });
    const afterReconnect = await gw.commitAndPublish(roomId, 10);
    const expected = [...history.slice(10), ...live, ...whileCut, ...afterReconnect];
    await waitFor(() => client.messages.length >= expected.length, { what: 'the resumed stream' });
    expectExactStream(client, expected);
    // The second stream started from Last-Event-ID (not the URL's afterSeq, which would replay again).
    expect(client.subscribed).toHaveLength(2);
    expect(
      await metricValue('seqcast_gateway_sse_streams_opened_total', { token_source: 'header', resume: 'last-event-id' }),
    ).toBe(resumesBefore + 1);
    client.source.close();
  });

  it('starts at the live head without a cursor, and resets a cursor from another epoch to the retained start', async () => {
    const roomId = room('team-sse-epoch');
    const history = gw.sequence(roomId, 5);
    await gw.commit(history);
    const fresh = sseClient(eventsUrl(gw.url, roomId), gw.token([roomId]));
    await waitFor(() => fresh.subscribed.length === 1, { what: 'the subscription' });
    expect(fresh.subscribed[0]).toEqual({ ok: true, roomId, epoch: gw.epoch, headSeq: history[4].seq });
    const live = await gw.commitAndPublish(roomId, 3);
    await waitFor(() => fresh.messages.length >= 3, { what: 'live messages' });
    expectExactStream(fresh, live);
    fresh.source.close();

    // A Last-Event-ID of an older epoch: `reset`, and the whole retained history follows.
    const response = await fetch(eventsUrl(gw.url, roomId), {
      headers: { Authorization: `Bearer ${gw.token([roomId])}`, 'Last-Event-ID': `e000000000000:${live[2].seq}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const text = await readUntil(response, `id: ${gw.epoch}:${live[2].seq}\n`);
    expect(text).toContain(`"reset":true`);
    const ids = [...text.matchAll(/^id: (.*)$/gm)].map((match) => match[1]);
    expect(ids).toEqual([...history, ...live].map((m) => `${gw.epoch}:${m.seq}`));
  });

  it('?last=N replays the latest N then live, and a cut connection resumes exactly, not from the latest N', async () => {
    const roomId = room('team-sse-last');
    const history = gw.sequence(roomId, 40);
    await gw.commit(history);
    const proxy = await TcpProxy.start(gw.port);
    proxies.push(proxy);

    const client = sseClient(eventsUrl(proxy.url, roomId, 'last=10'), gw.token(['team-*']));
    await waitFor(() => client.messages.length >= 10, { what: 'the latest 10' });
    expect(client.subscribed[0]).toEqual({ ok: true, roomId, epoch: gw.epoch, headSeq: history[39].seq });
    const live = await gw.commitAndPublish(roomId, 5);
    await waitFor(() => client.messages.length >= 15, { what: 'live messages' });

    proxy.cut();
    const whileCut = await gw.commitAndPublish(roomId, 5);
    await waitFor(() => client.opens >= 2, { what: 'the EventSource reconnect' });
    const expected = [...history.slice(30), ...live, ...whileCut];
    await waitFor(() => client.messages.length >= expected.length, { what: 'the resumed stream' });
    expectExactStream(client, expected);
    client.source.close();
  });

  it('refuses bad requests with the API error body and the right status', async () => {
    const roomId = room('team-sse-refused');
    const token = gw.token([roomId]);
    const get = (query: string, headers: Record<string, string> = {}, target = roomId) =>
      fetch(eventsUrl(gw.url, target, query), { headers });

    const missing = await get('');
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer');
    expect((await errorOf(missing)).code).toBe('unauthorized');
    expect((await get('', { Authorization: 'Bearer not-a-jwt' })).status).toBe(401);
    const forbidden = await get('', { Authorization: `Bearer ${token}` }, room('other'));
    expect(forbidden.status).toBe(403);
    expect((await errorOf(forbidden)).code).toBe('forbidden');
    const invalid = await get('afterSeq=abc&since=1', { Authorization: `Bearer ${token}` });
    expect(invalid.status).toBe(400);
    const invalidMessage = (await errorOf(invalid)).message;
    expect(invalidMessage).toContain('afterSeq: must be an integer >= -1');
    expect(invalidMessage).toContain('since: unknown parameter');
    expect((await get('', { Authorization: `Bearer ${token}`, 'Last-Event-ID': 'garbage' })).status).toBe(400);
    const origin = await get('', { Authorization: `Bearer ${token}`, Origin: 'https://evil.example.com' });
    expect(origin.status).toBe(403);
    expect((await errorOf(origin)).message).toBe('origin https://evil.example.com is not allowed');

    // The query-parameter token (for the browser's EventSource) from a listed origin, with CORS.
    const viaQuery = await get(`access_token=${token}`, { Origin: 'https://app.example.com' });
    expect(viaQuery.status).toBe(200);
    expect(viaQuery.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    await viaQuery.body?.cancel();
  });

  it('sends heartbeats as comments', async () => {
    const roomId = room('team-sse-heartbeat');
    const response = await fetch(eventsUrl(gw.url, roomId), { headers: { Authorization: `Bearer ${gw.token([roomId])}` } });
    const text = await readUntil(response, ': heartbeat\n\n');
    expect(text).toMatch(/^retry: 100\nevent: subscribed\ndata: \{.*\}\n\n(: heartbeat\n\n)+$/s);
  });

  // Keep this test last: from here on the harness's SSE side is draining and refuses new streams.
  it('drains: announces server_restart, ends the stream with a retry hint, and the client comes back by itself', async () => {
    const roomId = room('team-sse-drain');
    const client = sseClient(eventsUrl(gw.url, roomId), gw.token([roomId]));
    await waitFor(() => client.subscribed.length === 1, { what: 'the subscription' });
    const live = await gw.commitAndPublish(roomId, 3);
    await waitFor(() => client.messages.length >= 3, { what: 'live messages' });

    const streams = gw.app.get(SseStreams);
    await streams.drain(); // resolves once every stream has closed
    expect(streams.size).toBe(0);
    expect(client.named[0]).toMatchObject({ type: 'server_restart' });
    // EventSource reconnects after the short retry; this instance, draining, sends it on
    // (a 200 that ends with `unavailable`) rather than a status that would stop it for good.
    await waitFor(() => client.named.some((e) => e.type === 'unavailable'), { what: 'the refused reconnect' });
    expect(client.source.readyState).not.toBe(EventSource.CLOSED);
    expectExactStream(client, live);
    client.source.close();
  });
});
