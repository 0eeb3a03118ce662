/**
 * The ingest service's operational behaviour in one process against the real broker and database:
 * graceful drain (nothing accepted is lost, nothing in flight is cut), /metrics after a short run,
 * and JSON logs that carry request ids and never a token.
 */
import { request as httpRequest } from 'node:http';
import { signToken } from '@seqcast/auth';
import { type Admin, createKafka, ensureTopics, type Kafka } from '@seqcast/kafka';
import { createLogger } from '@seqcast/observability';
import { type DataSource, openDatabase } from '@seqcast/persistence';
import {
  createTestDatabase,
  sample,
  TEST_JWT_SECRET,
  type TestDatabase,
  testKafkaBrokers,
  uniqueTopics,
  waitFor,
} from '@seqcast/testing';
import { Kafka as KafkaClient, logLevel } from 'kafkajs';
import {
  ALICE_TOKEN,
  type ApiReply,
  callApi,
  type RunningIngestService,
  startIngestService,
} from '../testing';

const PARTITIONS = 3;
const token = ALICE_TOKEN;

/**
 * A publish whose body is sent in two parts, so the request is in flight (headers in, body not
 * complete) for as long as the test wants.
 */
function heldPublish(baseUrl: string, roomId: string, clientMsgId: string) {
  const body = Buffer.from(JSON.stringify({ clientMsgId, payload: { held: true } }));
  const url = new URL(`/v1/rooms/${roomId}/messages`, baseUrl);
  const req = httpRequest(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': body.length },
  });
  const reply = new Promise<{ status: number; body: unknown }>((resolve, reject) => {
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString() || 'null') }),
      );
    });
    req.on('error', reject);
  });
  req.write(body.subarray(0, 10));
  return { reply, finish: () => req.end(body.subarray(10)) };
}

describe('ingest-api operations (real Kafka + PostgreSQL)', () => {
  const { messagesTopic } = uniqueTopics('ingest-ops');
  let database: TestDatabase;
  let dataSource: DataSource;
  let kafka: Kafka;
  let admin: Admin;
  const services: RunningIngestService[] = [];

  async function start(options: { logger?: ReturnType<typeof createLogger>; kafka?: Kafka } = {}) {
    const service = await startIngestService({
      kafka: options.kafka ?? kafka,
      dataSource,
      messagesTopic,
      partitions: PARTITIONS,
      logger: options.logger,
    });
    services.push(service);
    return service;
  }

  /** Reads the topic from the beginning until every wanted `partition:offset` has been seen. */
  async function readBack(wanted: Map<string, string>): Promise<Map<string, string>> {
    const groupId = `${messagesTopic}.check.${Date.now()}`;
    const consumer = kafka.consumer({ groupId });
    const seen = new Map<string, string>();
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: messagesTopic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ partition, message }) => {
          const value = JSON.parse(message.value?.toString() ?? '{}') as { clientMsgId?: string };
          seen.set(`${partition}:${message.offset}`, value.clientMsgId ?? '');
        },
      });
      await waitFor(() => [...wanted.keys()].every((key) => seen.has(key)), {
        timeoutMs: 30_000,
        what: `${wanted.size} accepted records on the topic`,
      });
    } finally {
      await consumer.disconnect();
      await admin.deleteGroups([groupId]).catch(() => undefined);
    }
    return seen;
  }

  beforeAll(async () => {
    database = await createTestDatabase();
    dataSource = await openDatabase({ url: database.url, runMigrations: true });
    kafka = createKafka({ brokers: testKafkaBrokers(), clientId: 'ingest-ops-int' });
    await ensureTopics(kafka, [{ name: messagesTopic, partitions: PARTITIONS }]);
    admin = kafka.admin();
    await admin.connect();
  });

  afterEach(async () => {
    await Promise.all(services.splice(0).map((service) => service.close()));
  });

  afterAll(async () => {
    await admin?.deleteTopics({ topics: [messagesTopic] }).catch(() => undefined);
    await admin?.disconnect();
    await dataSource?.destroy();
    await database?.drop();
  });

  describe('graceful drain', () => {
    it('turns unready and refuses new work at once, answers what is in flight, then stops listening', async () => {
      const service = await start();
      const held = heldPublish(service.baseUrl, 'lobby', 'held-1');
      await waitFor(() => service.drain.requestsInFlight === 1, { what: 'the held request to be in flight' });

      let closed = false;
      const closing = service.close().then(() => (closed = true));

      const ready = await callApi(service.baseUrl, 'GET', '/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body).toEqual({
        status: 'not_ready',
        checks: { shutdown: expect.stringContaining('draining'), kafka: 'ok', database: 'ok' },
      });
      expect((await callApi(service.baseUrl, 'GET', '/healthz')).status).toBe(200);
      const refused = await callApi(service.baseUrl, 'POST', '/v1/rooms/lobby/messages', {
        json: { clientMsgId: 'late-1', payload: 1 },
      });
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(refused.body).toEqual({
        error: { code: 'unavailable', message: expect.stringContaining('shutting down') },
      });
      expect(closed).toBe(false);

      held.finish();
      const answer = await held.reply;
      expect(answer).toEqual({
        status: 202,
        body: {
          roomId: 'lobby',
          clientMsgId: 'held-1',
          partition: expect.any(Number),
          offset: expect.any(Number),
          duplicate: false,
        },
      });
      await closing;
      const { partition, offset } = answer.body as { partition: number; offset: number };
      expect((await readBack(new Map([[`${partition}:${offset}`, 'held-1']]))).get(`${partition}:${offset}`)).toBe(
        'held-1',
      );
      await expect(fetch(`${service.baseUrl}/healthz`)).rejects.toThrow();
    });

    it('loses nothing it accepted when shut down in the middle of a stream of publishes', async () => {
      const service = await start();
      const accepted = new Map<string, string>();
      const outcomes = new Map<string, number>();
      let closeStartedAt = Number.POSITIVE_INFINITY;
      let acceptedAfterCloseBegan = 0;
      const count = (what: string) => outcomes.set(what, (outcomes.get(what) ?? 0) + 1);

      const publisher = async (n: number) => {
        for (let i = 0; i < 10_000; i++) {
          const clientMsgId = `p${n}-${i}`;
          let reply: ApiReply;
          try {
            reply = await callApi(service.baseUrl, 'POST', `/v1/rooms/team-1:room-${n}/messages`, {
              json: { clientMsgId, payload: { n, i } },
            });
          } catch {
            count('network error');
            return;
          }
          if (reply.status === 202) {
            const { partition, offset } = reply.body as { partition: number; offset: number };
            accepted.set(`${partition}:${offset}`, clientMsgId);
            if (Date.now() >= closeStartedAt) acceptedAfterCloseBegan++;
            count('202');
            continue;
          }
          count(`${reply.status} ${(reply.body as { error?: { code?: string } }).error?.code ?? ''}`);
          return;
        }
      };
      const publishers = Array.from({ length: 8 }, (_, n) => publisher(n));

      await waitFor(() => accepted.size >= 200 && service.drain.requestsInFlight > 0, {
        timeoutMs: 30_000,
        what: '200 accepted publishes with more in flight',
      });
      // Same tick as the check above: the requests counted in flight are still unanswered.
      closeStartedAt = Date.now();
      await service.close();
      await Promise.all(publishers);

      // Every publisher ended on a refusal, never on a failure of the service.
      for (const what of outcomes.keys()) expect(['202', '503 unavailable', 'network error']).toContain(what);
      // What was in flight when the shutdown began was answered, not cut off.
      expect(acceptedAfterCloseBegan).toBeGreaterThanOrEqual(1);
      const seen = await readBack(accepted);
      for (const [position, clientMsgId] of accepted)
        expect({ position, id: seen.get(position) }).toEqual({ position, id: clientMsgId });
      process.stdout.write(
        `ingest drain under load: ${accepted.size} accepted, all in Kafka; ${acceptedAfterCloseBegan} answered 202 ` +
          `after the shutdown began; outcomes ${JSON.stringify(Object.fromEntries(outcomes))}\n`,
      );
    });
  });

  it('exports accepted messages, rejects by code, produce latency and requests by route on /metrics', async () => {
    const service = await start();
    const before = await (await fetch(`${service.managementUrl}/metrics`)).text();
    const value = (text: string, name: string, labels?: Record<string, string>) => sample(text, name, labels) ?? 0;

    for (let i = 0; i < 5; i++) {
      expect(
        (
          await callApi(service.baseUrl, 'POST', '/v1/rooms/lobby/messages', {
            json: { clientMsgId: `m-${i}`, payload: i },
          })
        ).status,
      ).toBe(202);
    }
    const batch = Array.from({ length: 4 }, (_, i) => ({ roomId: `team-1:b${i}`, clientMsgId: `b-${i}`, payload: i }));
    expect((await callApi(service.baseUrl, 'POST', '/v1/messages/batch', { json: { messages: batch } })).status).toBe(
      202,
    );
    expect((await callApi(service.baseUrl, 'POST', '/v1/rooms/lobby/messages', { json: { payload: 1 } })).status).toBe(
      400,
    );
    expect((await callApi(service.baseUrl, 'POST', '/v1/rooms/bad%20room/messages', { json: {} })).status).toBe(400);
    expect((await callApi(service.baseUrl, 'POST', '/v1/rooms/lobby/messages', { token: null, json: {} })).status).toBe(
      401,
    );
    expect(
      (
        await callApi(service.baseUrl, 'POST', '/v1/rooms/team-2:x/messages', {
          json: { clientMsgId: 'x', payload: 1 },
        })
      ).status,
    ).toBe(403);

    const response = await fetch(`${service.managementUrl}/metrics`);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    // The public port never serves metrics.
    expect((await callApi(service.baseUrl, 'GET', '/metrics', { token: null })).status).toBe(404);
    const after = await response.text();
    const delta = (name: string, labels?: Record<string, string>) =>
      value(after, name, labels) - value(before, name, labels);

    expect(delta('seqcast_ingest_accepted_messages_total')).toBe(9);
    expect(delta('seqcast_ingest_rejected_requests_total', { code: 'invalid_request' })).toBe(2);
    expect(delta('seqcast_ingest_rejected_requests_total', { code: 'unauthorized' })).toBe(1);
    expect(delta('seqcast_ingest_rejected_requests_total', { code: 'forbidden' })).toBe(1);
    expect(delta('seqcast_ingest_produce_latency_seconds_count')).toBe(6);
    const latencySum = delta('seqcast_ingest_produce_latency_seconds_sum');
    expect(latencySum).toBeGreaterThan(0);
    expect(latencySum).toBeLessThan(6 * 10);
    expect(delta('seqcast_ingest_produce_latency_seconds_bucket', { le: '+Inf' })).toBe(6);
    const route = { method: 'POST', route: '/v1/rooms/:roomId/messages' };
    expect(delta('seqcast_ingest_http_requests_total', { ...route, status: '202' })).toBe(5);
    expect(delta('seqcast_ingest_http_requests_total', { ...route, status: '403' })).toBe(1);
    expect(
      delta('seqcast_ingest_http_requests_total', { method: 'POST', route: '/v1/messages/batch', status: '202' }),
    ).toBe(1);
    // Every series carries the service label, process defaults included.
    expect(after).toMatch(/^seqcast_ingest_accepted_messages_total\{service="ingest-api"\} \d+$/m);
    expect(value(after, 'process_resident_memory_bytes', { service: 'ingest-api' })).toBeGreaterThan(0);
    expect(after).toMatch(/^nodejs_eventloop_lag_seconds\{service="ingest-api"\} /m);
  });

  it('logs failed requests as JSON lines with their request id, and never a token', async () => {
    const lines: string[] = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      return true;
    });
    const forged = signToken({ sub: 'mallory', rooms: ['*'] }, 'not-the-secret');
    const secrets = [token, forged, TEST_JWT_SECRET, 'not-the-secret'];
    try {
      const logger = createLogger('ingest-api', 'log');
      const service = await start({ logger });
      const deadKafka = new KafkaClient({
        clientId: 'ingest-ops-dead',
        brokers: ['127.0.0.1:1'],
        connectionTimeout: 300,
        retry: { retries: 1, initialRetryTime: 50, maxRetryTime: 100 },
        logLevel: logLevel.NOTHING,
      });
      const dead = await start({ logger, kafka: deadKafka });

      const unauthorized = await callApi(service.baseUrl, 'POST', '/v1/rooms/lobby/messages', {
        token: forged,
        headers: { 'x-request-id': 'req-forged-1' },
        json: { clientMsgId: 'a', payload: 1 },
      });
      expect(unauthorized.status).toBe(401);
      expect(unauthorized.headers.get('x-request-id')).toBe('req-forged-1');

      const forbidden = await callApi(service.baseUrl, 'POST', '/v1/rooms/team-2:x/messages', {
        headers: { 'x-request-id': 'not a sane id' },
        json: { clientMsgId: 'a', payload: 1 },
      });
      expect(forbidden.status).toBe(403);
      const generated = forbidden.headers.get('x-request-id') ?? '';
      expect(generated).toMatch(/^[0-9a-f-]{36}$/);

      const accepted = await callApi(service.baseUrl, 'POST', '/v1/rooms/lobby/messages', {
        headers: { 'x-request-id': 'req-ok-1' },
        json: { clientMsgId: 'log-ok', payload: 1 },
      });
      expect(accepted.status).toBe(202);

      const unavailable = await callApi(dead.baseUrl, 'POST', '/v1/rooms/lobby/messages', {
        headers: { 'x-request-id': 'req-dead-1' },
        json: { clientMsgId: 'a', payload: 1 },
      });
      expect(unavailable.status).toBe(503);
      expect(unavailable.headers.get('x-request-id')).toBe('req-dead-1');

      const records = lines.map((line) => JSON.parse(line) as { level: string; context?: string; message: unknown });
      const about = (requestId: string) =>
        records.filter(
          (r) => typeof r.message === 'object' && (r.message as { requestId?: string }).requestId === requestId,
        );

      expect(about('req-forged-1')).toEqual([
        expect.objectContaining({
          level: 'log',
          context: 'HttpAccess',
          message: expect.objectContaining({
            event: 'http_request',
            method: 'POST',
            path: '/v1/rooms/lobby/messages',
            route: '/v1/rooms/:roomId/messages',
            status: 401,
          }),
        }),
      ]);
      expect(about(generated)).toEqual([
        expect.objectContaining({ message: expect.objectContaining({ status: 403, userId: 'alice' }) }),
      ]);
      // Accepted requests are logged at debug, below the default level.
      expect(about('req-ok-1')).toEqual([]);
      expect(about('req-dead-1')).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            level: 'warn',
            context: 'HttpErrorFilter',
            message: expect.objectContaining({ event: 'http_error', status: 503, code: 'unavailable' }),
          }),
          expect.objectContaining({
            level: 'warn',
            message: expect.objectContaining({ event: 'http_request', status: 503 }),
          }),
        ]),
      );
      const output = lines.join('\n');
      for (const secret of secrets) expect(output).not.toContain(secret);
      expect(output).not.toMatch(/bearer/i);
    } finally {
      // Closed while output is still captured: their shutdown lines go through the same logger.
      await Promise.all(services.splice(0).map((service) => service.close()));
      write.mockRestore();
    }
  });
});
