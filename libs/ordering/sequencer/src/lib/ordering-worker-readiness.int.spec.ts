/**
 * /readyz tells the truth for the ordering worker: started in-process against a broker of its own
 * and PostgreSQL behind a TCP proxy, it turns 503 when either becomes unreachable and 200 again
 * once it is back, and keeps sequencing afterwards. The shared broker on 9092 is never touched.
 */
import { randomBytes } from 'node:crypto';
import type { IngestRecord } from '@seqcast/contracts';
import { createKafka, ensureTopics, type Kafka, RoomProducer } from '@seqcast/kafka';
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
  testKafkaClient,
  uniqueTopics,
  waitFor,
} from '@seqcast/testing';
import { type RunningWorkerService, startWorkerService } from '../testing';

describe('ordering-worker readiness (dedicated broker, PostgreSQL behind a proxy)', () => {
  const topics = uniqueTopics('worker-ready');
  let broker: DedicatedKafka;
  let kafka: Kafka;
  let database: TestDatabase;
  let proxy: TcpProxy;
  let dataSource: DataSource;
  let service: RunningWorkerService;

  const readiness = () => fetchReadiness(service.baseUrl);
  const becomes = (status: number, what: string, timeoutMs?: number) =>
    readinessBecomes(service.baseUrl, status, { what, timeoutMs });

  /** Publishes one message and waits until the worker stored it: the worker is doing its job. */
  async function sequencesOne(clientMsgId: string, timeoutMs: number): Promise<void> {
    const producer = new RoomProducer(kafka, { partitions: 3 });
    await producer.connect();
    try {
      const record: IngestRecord = {
        v: 1,
        roomId: 'ready-room',
        clientMsgId,
        senderId: 'tester',
        payload: null,
        sentAt: new Date().toISOString(),
      };
      await producer.send(topics.messagesTopic, [{ roomId: 'ready-room', value: JSON.stringify(record) }]);
    } finally {
      await producer.disconnect();
    }
    await waitFor(
      async () => {
        const rows: unknown[] = await dataSource.query(`SELECT 1 FROM seqcast_messages WHERE client_msg_id = $1`, [
          clientMsgId,
        ]);
        return rows.length === 1;
      },
      { timeoutMs, what: `message ${clientMsgId} to be sequenced` },
    );
  }

  beforeAll(async () => {
    broker = await createDedicatedKafka();
    await broker.start();
    kafka = createKafka({ brokers: [broker.broker], clientId: 'worker-ready-int', client: testKafkaClient() });
    await ensureTopics(kafka, [
      { name: topics.messagesTopic, partitions: 3 },
      { name: topics.eventsTopic, partitions: 3 },
    ]);
    database = await createTestDatabase();
    const url = new URL(database.url);
    proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
    url.port = String(proxy.port);
    dataSource = await openDatabase({ url: url.toString(), runMigrations: true });
    service = await startWorkerService({
      kafka,
      dataSource,
      settings: {
        ...topics,
        partitions: 3,
        groupId: `worker-ready-${randomBytes(4).toString('hex')}`,
        partitionsConsumedConcurrently: 3,
        retryInitialMs: 50,
        retryMaxMs: 500,
        // After a broker restart kafkajs rejoins as a new member, and the group waits out the old
        // member's session before assigning partitions: a shorter session keeps this test short.
        sessionTimeoutMs: 8_000,
        heartbeatIntervalMs: 1_000,
      },
    });
  }, 60_000);

  afterAll(async () => {
    await service?.close();
    await dataSource?.destroy().catch(() => undefined);
    await proxy?.close();
    await database?.drop();
    await broker?.destroy();
  }, 30_000);

  it('is ready when Kafka, both topics, PostgreSQL and its consumer are all fine', async () => {
    await sequencesOne('before', 30_000);
    expect(await readiness()).toEqual({
      status: 200,
      body: { status: 'ready', checks: { kafka: 'ok', database: 'ok', consumer: 'ok' } },
    });
  });

  it('turns 503 while PostgreSQL is unreachable, and 200 once it is back', async () => {
    await proxy.cut();
    const down = await becomes(503, 'readiness 503 with PostgreSQL cut off');
    expect(down.body.checks).toEqual({ kafka: 'ok', database: expect.stringMatching(/^error: /), consumer: 'ok' });
    await proxy.restore();
    await becomes(200, 'readiness 200 with PostgreSQL back');
    await sequencesOne('after-database', 20_000);
  });

  it('turns 503 while the broker is down, and 200 once it is back', async () => {
    await broker.stop();
    const stoppedAt = Date.now();
    const down = await becomes(503, 'readiness 503 with the broker stopped');
    const unreadyMs = Date.now() - stoppedAt;
    expect(down.body.checks).toMatchObject({ kafka: expect.stringMatching(/^error: /), database: 'ok' });
    await broker.start();
    const restartedAt = Date.now();
    await becomes(200, 'readiness 200 with the broker back', 30_000);
    const readyMs = Date.now() - restartedAt;
    await sequencesOne('after-broker', 30_000);
    process.stdout.write(
      `worker readiness: 503 ${unreadyMs} ms after the broker stopped, 200 ${readyMs} ms after it was back, ` +
        `sequencing again ${Date.now() - restartedAt} ms after it was back\n`,
    );
  }, 90_000);
});
