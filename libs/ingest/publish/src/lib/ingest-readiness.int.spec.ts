/**
 * /readyz tells the truth: the ingest service, started in-process against a broker of its own and
 * PostgreSQL behind a TCP proxy, turns 503 when either becomes unreachable or its topic is gone,
 * and 200 again once the dependency is back. The shared broker on 9092 is never touched.
 */
import { createKafka, ensureTopics, type Kafka } from '@seqcast/kafka';
import { type DataSource, openDatabase } from '@seqcast/persistence';
import {
  createDedicatedKafka,
  createTestDatabase,
  type DedicatedKafka,
  fetchReadiness,
  readinessBecomes,
  startTcpProxy,
  type TcpProxy,
  type TestDatabase,
  uniqueTopics,
} from '@seqcast/testing';
import { type RunningIngestService, startIngestService } from '../testing';

describe('ingest-api readiness (dedicated broker, PostgreSQL behind a proxy)', () => {
  const { messagesTopic } = uniqueTopics('ingest-ready');
  let broker: DedicatedKafka;
  let kafka: Kafka;
  let database: TestDatabase;
  let proxy: TcpProxy;
  let dataSource: DataSource;
  let service: RunningIngestService;

  const readiness = () => fetchReadiness(service.baseUrl);
  const becomes = (status: number, what: string, timeoutMs?: number) =>
    readinessBecomes(service.baseUrl, status, { what, timeoutMs });

  beforeAll(async () => {
    broker = await createDedicatedKafka();
    await broker.start();
    kafka = createKafka({ brokers: [broker.broker], clientId: 'ingest-ready-int' });
    await ensureTopics(kafka, [{ name: messagesTopic, partitions: 3 }]);
    database = await createTestDatabase();
    const url = new URL(database.url);
    proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
    url.port = String(proxy.port);
    dataSource = await openDatabase({ url: url.toString(), runMigrations: true });
    service = await startIngestService({ kafka, dataSource, messagesTopic, partitions: 3 });
  }, 60_000);

  afterAll(async () => {
    await service?.close();
    await dataSource?.destroy().catch(() => undefined);
    await proxy?.close();
    await database?.drop();
    await broker?.destroy();
  }, 30_000);

  it('is ready when Kafka, the topic and PostgreSQL all answer', async () => {
    expect(await readiness()).toEqual({
      status: 200,
      body: { status: 'ready', checks: { kafka: 'ok', database: 'ok' } },
    });
  });

  it('turns 503 while PostgreSQL is unreachable, and 200 once it is back', async () => {
    await proxy.cut();
    const down = await becomes(503, 'readiness 503 with PostgreSQL cut off');
    expect(down.body).toEqual({
      status: 'not_ready',
      checks: { kafka: 'ok', database: expect.stringMatching(/^error: /) },
    });
    await proxy.restore();
    await becomes(200, 'readiness 200 with PostgreSQL back');
  });

  it('turns 503 while the broker is down, and 200 once it is back', async () => {
    await broker.stop();
    const down = await becomes(503, 'readiness 503 with the broker stopped');
    expect(down.body).toEqual({
      status: 'not_ready',
      checks: { kafka: expect.stringMatching(/^error: /), database: 'ok' },
    });
    await broker.start();
    await becomes(200, 'readiness 200 with the broker back', 30_000);
  }, 60_000);

  it('turns 503 when its topic is missing', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.deleteTopics({ topics: [messagesTopic] });
    } finally {
      await admin.disconnect();
    }
    const down = await becomes(503, 'readiness 503 without the messages topic');
    expect(down.body.checks['kafka']).toContain(`missing topic(s): ${messagesTopic}`);
  });
});
