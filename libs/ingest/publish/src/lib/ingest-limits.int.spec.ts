/**
 * Limits and origins on the real HTTP API (real broker and database): the per-principal publish
 * rate (batch items counted, 429 with Retry-After, other principals unaffected) and the origin
 * allowlist (a browser origin not listed is refused with 403 before anything is read).
 */
import { signToken } from '@seqcast/auth';
import { createKafka, ensureTopics, type Kafka } from '@seqcast/kafka';
import { type DataSource, openDatabase } from '@seqcast/persistence';
import {
  createTestDatabase,
  TEST_JWT_SECRET,
  type TestDatabase,
  testKafkaBrokers,
  uniqueTopics,
} from '@seqcast/testing';
import { register } from 'prom-client';
import { callApi, type RunningIngestService, startIngestService } from '../testing';

const ALLOWED = 'https://app.example.com';
const BOB_TOKEN = signToken({ sub: 'bob', rooms: ['lobby'] }, TEST_JWT_SECRET);

async function limitRejections(limit: string): Promise<number> {
  const metric = await register.getSingleMetric('seqcast_ingest_limit_rejections_total')?.get();
  return metric?.values.find((v) => v.labels['limit'] === limit)?.value ?? 0;
}

describe('ingest-api limits and origins (real Kafka and PostgreSQL)', () => {
  const { messagesTopic } = uniqueTopics('ingest-limits');
  let database: TestDatabase;
  let dataSource: DataSource;
  let kafka: Kafka;
  let service: RunningIngestService;

  beforeAll(async () => {
    database = await createTestDatabase();
    dataSource = await openDatabase({ url: database.url, runMigrations: true });
    kafka = createKafka({ brokers: testKafkaBrokers(), clientId: 'ingest-limits-int' });
    await ensureTopics(kafka, [{ name: messagesTopic, partitions: 3 }]);
    // 10/s over a 50 s window: 500 points, exactly one full batch.
    service = await startIngestService({
      kafka,
      dataSource,
      messagesTopic,
      partitions: 3,
      publishRatePerSec: 10,
      allowedOrigins: [ALLOWED],
    });
  });

  afterAll(async () => {
    await service?.close();
    await dataSource?.destroy();
    await database?.drop();
  });

  it('counts batch items against the publisher and answers 429 with Retry-After once they are spent', async () => {
    const before = await limitRejections('publish_rate');
    const messages = Array.from({ length: 500 }, (_, i) => ({ roomId: 'lobby', clientMsgId: `rl-${i}`, payload: i }));
    expect((await callApi(service.baseUrl, 'POST', '/v1/messages/batch', { json: { messages } })).status).toBe(202);

    const over = await callApi(service.baseUrl, 'POST', '/v1/rooms/lobby/messages', {
      json: { clientMsgId: 'rl-over', payload: 1 },
    });
    expect(over.status).toBe(429);
    expect(over.body).toEqual({ error: { code: 'rate_limited', message: expect.stringContaining('retry after') } });
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await limitRejections('publish_rate')).toBe(before + 1);

    // Another principal has its own budget.
    const bob = await callApi(service.baseUrl, 'POST', '/v1/rooms/lobby/messages', {
      token: BOB_TOKEN,
      json: { clientMsgId: 'bob-1', payload: 1 },
    });
    expect(bob.status).toBe(202);
  });

  it('refuses a request from Origin http://evil.example with 403 and serves CORS to the allowed origin', async () => {
    const before = await limitRejections('origin');
    const evil = await callApi(service.baseUrl, 'POST', '/v1/rooms/lobby/messages', {
      token: BOB_TOKEN,
      headers: { origin: 'http://evil.example' },
      json: { clientMsgId: 'evil-1', payload: 1 },
    });
    expect(evil.status).toBe(403);
    expect(evil.body).toEqual({
      error: { code: 'forbidden', message: expect.stringContaining('http://evil.example') },
    });
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
    expect(await limitRejections('origin')).toBe(before + 1);

    const preflightEvil = await fetch(`${service.baseUrl}/v1/rooms/lobby/messages`, {
      method: 'OPTIONS',
      headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(preflightEvil.status).toBe(403);
    expect(preflightEvil.headers.get('access-control-allow-origin')).toBeNull();

    const preflight = await fetch(`${service.baseUrl}/v1/rooms/lobby/messages`, {
      method: 'OPTIONS',
      headers: {
        origin: ALLOWED,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(ALLOWED);

    const allowed = await callApi(service.baseUrl, 'POST', '/v1/rooms/lobby/messages', {
      token: BOB_TOKEN,
      headers: { origin: ALLOWED },
      json: { clientMsgId: 'ok-origin', payload: 1 },
    });
    expect(allowed.status).toBe(202);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ALLOWED);
  });
});
