/**
 * GET /openapi.json on the ingest service as the app composes it (real broker, fresh database): no
 * token needed, request id and access log like any route, and byte-for-byte the committed
 * docs/openapi.json that the contracts-docs test keeps current.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createKafka, ensureTopics, type Kafka } from '@seqcast/kafka';
import { type DataSource, openDatabase } from '@seqcast/persistence';
import { createTestDatabase, type TestDatabase, testKafkaBrokers, uniqueTopics } from '@seqcast/testing';
import { callApi, type RunningIngestService, startIngestService } from '../testing';

describe('GET /openapi.json', () => {
  const { messagesTopic } = uniqueTopics('openapi');
  let database: TestDatabase;
  let dataSource: DataSource;
  let kafka: Kafka;
  let service: RunningIngestService;

  beforeAll(async () => {
    database = await createTestDatabase();
    dataSource = await openDatabase({ url: database.url, runMigrations: true });
    kafka = createKafka({ brokers: testKafkaBrokers(), clientId: 'openapi-int' });
    await ensureTopics(kafka, [{ name: messagesTopic, partitions: 1 }]);
    service = await startIngestService({ kafka, dataSource, messagesTopic, partitions: 1 });
  });

  afterAll(async () => {
    await service?.close();
    const admin = kafka?.admin();
    await admin?.connect();
    await admin?.deleteTopics({ topics: [messagesTopic] }).catch(() => undefined);
    await admin?.disconnect();
    await dataSource?.destroy();
    await database?.drop();
  });

  it('serves the committed OpenAPI document without a token', async () => {
    const reply = await callApi(service.baseUrl, 'GET', '/openapi.json', { token: null });
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toContain('application/json');
    expect(reply.headers.get('x-request-id')).toBeTruthy();
    const committed = JSON.parse(readFileSync(join(__dirname, '../../../../../docs/openapi.json'), 'utf8'));
    expect(reply.body).toEqual(committed);
  });
});
