/**
 * Issue 11 §4: start-up never kills a process that could wait. The three built services, as real
 * processes, on a Kafka broker of this test's own (the shared one on 9092 is never stopped):
 *
 * - started before the broker exists, each keeps running, answers `/healthz` 200 and `/readyz` 503
 *   naming what it waits for, and becomes ready by itself once the broker starts;
 * - started all at once on topics that do not exist yet (so they race to create them, the race that
 *   made ingest-api exit with "This server does not host this topic-partition"), round after round:
 *   every round all three become ready and none exits; each round then delivers a message end to
 *   end and shuts down cleanly (exit 0).
 */
import { randomBytes } from 'node:crypto';
import {
  TEST_JWT_SECRET,
  createDedicatedKafka,
  createTestDatabase,
  type DedicatedKafka,
  fetchReadiness,
  freePort,
  type TestDatabase,
  uniqueTopics,
  waitFor,
} from '@seqcast/testing';
import { HttpPublisher, readHistory } from './support/http-publisher';
import { ServiceProcess, type ServiceName } from './support/service-process';

const ROUNDS = 5;
const NAMES: ServiceName[] = ['ordering-worker', 'ingest-api', 'edge-gateway'];

describe('start-up waits for its dependencies (real processes, own broker)', () => {
  let broker: DedicatedKafka;
  const databases: TestDatabase[] = [];
  const services: ServiceProcess[] = [];
  const figures: string[] = [];

  beforeAll(async () => {
    broker = await createDedicatedKafka();
  }, 60_000);

  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop(10_000).catch(() => undefined)));
    await Promise.all(databases.map((d) => d.drop().catch(() => undefined)));
    await broker?.destroy();
    if (figures.length > 0) console.log(`e2e start-up: ${figures.join('; ')}`);
  }, 60_000);

  /** The three services on fresh topics and a fresh database, created but not started. */
  async function createServices(label: string): Promise<ServiceProcess[]> {
    const database = await createTestDatabase();
    databases.push(database);
    const topics = uniqueTopics(`e2e-start-${label}`);
    const run = randomBytes(3).toString('hex');
    const env: Record<string, string> = {
      NODE_ENV: 'test',
      LOG_LEVEL: 'log',
      KAFKA_BROKERS: broker.broker,
      SEQCAST_MESSAGES_TOPIC: topics.messagesTopic,
      SEQCAST_EVENTS_TOPIC: topics.eventsTopic,
      SEQCAST_PARTITIONS: '3',
      DATABASE_URL: database.url,
      SEQCAST_JWT_SECRET: TEST_JWT_SECRET,
      WORKER_GROUP_ID: `e2e-start-worker-${run}`,
      GATEWAY_INSTANCE_ID: `e2e-start-gw-${run}`,
    };
    const created = await Promise.all(
      NAMES.map(async (name) => new ServiceProcess(name, await freePort(), env, `${name}-start-${label}-${run}`)),
    );
    services.push(...created);
    return created;
  }

  function exited(group: ServiceProcess[]): string[] {
    return group.filter((s) => s.exit !== null).map((s) => `${s.label} exited ${JSON.stringify(s.exit)}`);
  }

  it('services started before the broker keep running, report why they are not ready, and become ready once it starts', async () => {
    const group = await createServices('early');
    // start() resolves once /readyz is 200, which cannot happen before the broker runs.
    const starting = group.map((s) => s.start(180_000));
    starting.forEach((p) => p.catch(() => undefined));
    for (const service of group) {
      const reply = await waitFor(
        async () => {
          const ready = await fetchReadiness(service.url);
          return ready.status === 503 && /waiting for Kafka/.test(ready.body.checks['startup'] ?? '') && ready;
        },
        { timeoutMs: 60_000, intervalMs: 250, what: `${service.label} /readyz 503 waiting for Kafka` },
      );
      expect(reply.body.status).toBe('not_ready');
      expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
    }
    expect(exited(group)).toEqual([]);

    const brokerStartedAt = Date.now();
    await broker.start();
    const brokerReadyAt = Date.now();
    await Promise.all(starting);
    figures.push(
      `started before the broker: all 3 ready ${((Date.now() - brokerReadyAt) / 1000).toFixed(1)} s after it was ` +
        `(broker start took ${((brokerReadyAt - brokerStartedAt) / 1000).toFixed(1)} s)`,
    );
    expect(exited(group)).toEqual([]);
    const codes = await Promise.all(group.map((s) => s.stop()));
    expect(codes).toEqual([0, 0, 0]);
  }, 300_000);

  it(`all three started at once on topics that do not exist yet, ${ROUNDS} rounds: every round all become ready and none exits`, async () => {
    const times: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const group = await createServices(`r${round}`);
      const startedAt = Date.now();
      await Promise.all(group.map((s) => s.start()));
      times.push(Date.now() - startedAt);
      expect(exited(group)).toEqual([]);

      // And the stack works: a message published now is sequenced and readable.
      const ingest = group[1];
      const publisher = new HttpPublisher(ingest.url);
      await publisher.publishBatch([{ roomId: `start-r${round}`, clientMsgId: `r${round}`, payload: round }]);
      await waitFor(async () => (await readHistory(ingest.url, `start-r${round}`)).length === 1, {
        timeoutMs: 30_000,
        what: `round ${round}'s message to be stored`,
      });

      expect(await Promise.all(group.map((s) => s.stop()))).toEqual([0, 0, 0]);
    }
    figures.push(`${ROUNDS} rounds of simultaneous starts on missing topics: all ready in ${times.map((t) => `${(t / 1000).toFixed(1)} s`).join(', ')}`);
  }, 600_000);
});
