/**
 * publish() picks its transport: the gateway connection when it is connected, HTTP otherwise, on
 * a socket timeout or an `unavailable` answer (with the same clientMsgId), and always with
 * `publishTransport: 'http'`. The gateway is the fake transport, ingest-api a fetch stub; the HTTP
 * path itself (headers, retries) is publish.spec.ts against a real server.
 */
import type { PublishResult } from '@seqcast/contracts/wire';
import { FakeGateway } from '../testing';
import { SeqcastClient, type SeqcastClientOptions } from './seqcast-client';
import { SeqcastError } from './seqcast-error';

const ROOM = 'team-42:general';
const settle = () => jest.advanceTimersByTimeAsync(0);

function result(clientMsgId: string, duplicate = false): PublishResult {
  return { roomId: ROOM, clientMsgId, partition: 2, offset: 41, duplicate };
}

function setup(options: Partial<SeqcastClientOptions> = {}) {
  const gateway = new FakeGateway();
  const posts: Array<{ url: string; body: { clientMsgId: string; payload: unknown } }> = [];
  const fetchStub = (async (url: string, init?: RequestInit) => {
    const body = JSON.parse(String(init?.body)) as { clientMsgId: string; payload: unknown };
    posts.push({ url, body });
    return new Response(JSON.stringify(result(body.clientMsgId)), {
      status: 202,
      headers: { 'content-type': 'application/json' },
    });
  }) as unknown as typeof fetch;
  const client = new SeqcastClient(
    {
      gatewayUrl: 'http://gateway.test',
      ingestUrl: 'http://ingest.test',
      token: 'tok',
      random: () => 0.5,
      subscribeTimeoutMs: 1_000,
      ...options,
    },
    { transportFactory: gateway.factory, fetch: fetchStub },
  );
  return { gateway, client, posts };
}

async function connected(options: Partial<SeqcastClientOptions> = {}) {
  const ctx = setup(options);
  ctx.client.connect();
  await settle();
  ctx.gateway.last.accept();
  return ctx;
}

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

describe('publish transport', () => {
  it('publishes over the connection when connected, answering with the ack result', async () => {
    const { gateway, client, posts } = await connected();
    const done = client.publish(ROOM, { text: 'hi' }, { clientMsgId: 'm-1' });
    await settle();
    expect(gateway.last.publishes.map((p) => p.request)).toEqual([{ roomId: ROOM, clientMsgId: 'm-1', payload: { text: 'hi' } }]);
    gateway.last.publishes[0].ack({ ok: true, result: result('m-1') });
    await expect(done).resolves.toEqual(result('m-1'));
    expect(posts).toHaveLength(0);
  });

  it('uses HTTP when not connected', async () => {
    const { gateway, client, posts } = setup();
    await expect(client.publish(ROOM, 1, { clientMsgId: 'm-2' })).resolves.toEqual(result('m-2'));
    expect(posts.map((p) => p.body)).toEqual([{ clientMsgId: 'm-2', payload: 1 }]);
    expect(gateway.connections).toHaveLength(0);
  });

  it('falls back to HTTP with the same clientMsgId when the socket does not answer in time', async () => {
    const { gateway, client, posts } = await connected();
    const done = client.publish(ROOM, 'x');
    await settle();
    const sent = gateway.last.publishes[0].request.clientMsgId;
    expect(posts).toHaveLength(0);
    await jest.advanceTimersByTimeAsync(1_000);
    await expect(done).resolves.toEqual(result(sent));
    expect(posts.map((p) => p.body.clientMsgId)).toEqual([sent]);
  });

  it('falls back to HTTP at once when the connection drops while the socket publish is unanswered', async () => {
    const { gateway, client, posts } = await connected();
    const done = client.publish(ROOM, 'x', { clientMsgId: 'm-7' });
    await settle();
    gateway.last.drop();
    await expect(done).resolves.toEqual(result('m-7'));
    expect(posts.map((p) => p.body.clientMsgId)).toEqual(['m-7']);
  });

  it('falls back to HTTP with the same clientMsgId when the gateway answers unavailable (draining)', async () => {
    const { gateway, client, posts } = await connected();
    const done = client.publish(ROOM, 'x', { clientMsgId: 'm-3' });
    await settle();
    gateway.last.publishes[0].ack({
      ok: false,
      error: { code: 'unavailable', message: 'this gateway is shutting down', retryAfterMs: 5_000 },
    });
    await expect(done).resolves.toEqual(result('m-3'));
    expect(posts.map((p) => p.body.clientMsgId)).toEqual(['m-3']);
  });

  it('treats other refusals as final, like their HTTP counterparts', async () => {
    const { gateway, client, posts } = await connected();
    const done = client.publish(ROOM, 'x', { clientMsgId: 'm-4' });
    await settle();
    gateway.last.publishes[0].ack({ ok: false, error: { code: 'forbidden', message: 'no publish grant' } });
    const error = await done.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SeqcastError);
    expect(error).toMatchObject({ code: 'forbidden', message: 'no publish grant' });
    expect(posts).toHaveLength(0);
  });

  it("always uses HTTP with publishTransport: 'http'", async () => {
    const { gateway, client, posts } = await connected({ publishTransport: 'http' });
    await expect(client.publish(ROOM, 'x', { clientMsgId: 'm-5' })).resolves.toEqual(result('m-5'));
    expect(gateway.last.publishes).toHaveLength(0);
    expect(posts).toHaveLength(1);
  });

  it('rejects aborted while waiting for the socket, without sending over HTTP', async () => {
    const { client, posts } = await connected();
    const controller = new AbortController();
    const done = client.publish(ROOM, 'x', { clientMsgId: 'm-6', signal: controller.signal });
    await settle();
    controller.abort(new Error('user left'));
    await expect(done).rejects.toMatchObject({ code: 'aborted' });
    expect(posts).toHaveLength(0);
  });

  it('refuses an unknown publishTransport', () => {
    expect(() => setup({ publishTransport: 'carrier-pigeon' as 'http' })).toThrow(/publishTransport/);
  });
});
