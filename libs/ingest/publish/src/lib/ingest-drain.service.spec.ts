import { EventEmitter } from 'node:events';
import { Logger } from '@nestjs/common';
import type { IngestReply, IngestRequest } from './http-types';
import { DRAIN_RETRY_AFTER_SECONDS, IngestDrain } from './ingest-drain.service';

/** A Fastify reply whose `raw` (Node's response) is itself: `finish`/`close` are emitted on it. */
class FakeResponse extends EventEmitter implements IngestReply {
  readonly raw: IngestReply['raw'] = this;
  statusCode = 200;
  headersSent = false;
  headers: Record<string, string> = {};
  body: unknown;
  header(name: string, value: string) {
    this.headers[name] = value;
    return this;
  }
  code(code: number) {
    this.statusCode = code;
    return this;
  }
  send(body: unknown) {
    this.body = body;
    this.headersSent = true;
    this.emit('finish');
    this.emit('close');
  }
}

function request(path: string): IngestRequest {
  return { method: 'POST', originalUrl: path, headers: {} };
}

/** Runs the drain hook; returns the response and whether the request was passed on. */
function pass(drain: IngestDrain, path = '/v1/rooms/r/messages'): { response: FakeResponse; passed: boolean } {
  const response = new FakeResponse();
  let passed = false;
  drain.hook()(request(path), response, () => (passed = true));
  return { response, passed };
}

describe('IngestDrain', () => {
  beforeEach(() => jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined));
  afterEach(() => jest.restoreAllMocks());

  it('counts requests until they are answered or abandoned', () => {
    const drain = new IngestDrain();
    const a = pass(drain);
    const b = pass(drain);
    expect([a.passed, b.passed, drain.requestsInFlight]).toEqual([true, true, 2]);
    a.response.emit('finish');
    a.response.emit('close');
    b.response.emit('close'); // the client gave up
    expect(drain.requestsInFlight).toBe(0);
  });

  it('refuses new work with 503 unavailable once draining, but never the probes', () => {
    const drain = new IngestDrain();
    drain.onModuleDestroy();
    const refused = pass(drain);
    expect(refused.passed).toBe(false);
    expect(refused.response.statusCode).toBe(503);
    expect(refused.response.headers).toEqual({ 'Retry-After': String(DRAIN_RETRY_AFTER_SECONDS), Connection: 'close' });
    expect(refused.response.body).toEqual({ error: { code: 'unavailable', message: expect.stringContaining('shutting down') } });
    for (const probe of ['/healthz', '/readyz', '/metrics']) expect(pass(drain, probe).passed).toBe(true);
    expect(drain.requestsInFlight).toBe(0);
  });

  it('finishes the shutdown step only when the last request in flight is answered', async () => {
    const drain = new IngestDrain();
    const first = pass(drain);
    const second = pass(drain);
    drain.onModuleDestroy();
    let drained = false;
    const done = drain.beforeApplicationShutdown().then(() => (drained = true));
    first.response.emit('close');
    await Promise.resolve();
    expect(drained).toBe(false);
    second.response.emit('finish');
    await done;
    expect(drained).toBe(true);
  });

  it('finishes at once when nothing is in flight', async () => {
    const drain = new IngestDrain();
    drain.onModuleDestroy();
    await expect(drain.beforeApplicationShutdown()).resolves.toBeUndefined();
  });
});
