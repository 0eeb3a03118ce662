/**
 * Issue 5 §3: readiness tells the truth, for the three built services as real processes. They run
 * on a fresh database reached through a loopback TCP proxy and on a Kafka broker of this test's own
 * (the shared broker on 9092 is never touched), so the test can pull either plug and put it back:
 * every /readyz turns 503 naming the dependency that failed while /healthz stays 200, and every
 * /readyz is 200 again once the dependency is back. The summary line gives the measured flip times.
 *
 * After a broker restart the worker's `consumer` and the gateway's `events-consumer` checks
 * (ResilientConsumer in @seqcast/kafka) only pass once their consumer has joined its group again
 * and completed a fetch. While the broker was down kafkajs gave up retrying and restarted the
 * consumer, which joins as a new member: the group coordinator, reloading the group after the
 * restart, waits for the previous member's session (6 s, WORKER_/GATEWAY_SESSION_TIMEOUT_MS) to
 * expire before it completes the rebalance. So both come back some seconds after the broker; the
 * deadline (60 s) leaves room for a loaded machine. The `kafka` check itself is asserted for all three.
 *
 * While the broker shuts down, kafkajs can crash a consumer with the non-retriable
 * KafkaJSGroupCoordinatorNotFound, which it never restarts itself (tulios/kafkajs#1445, #1630).
 * ResilientConsumer recreates such a consumer with backoff, so that case costs one backoff plus the
 * same rejoin and still fits the deadline; before the services did, this test caught them staying
 * not-ready for good.
 */
import { randomBytes } from 'node:crypto';
import {
  TEST_JWT_SECRET,
  createDedicatedKafka,
  createTestDatabase,
  type DedicatedKafka,
  fetchReadiness,
  freePort,
  startTcpProxy,
  type TcpProxy,
  type TestDatabase,
  uniqueTopics,
  waitFor,
} from '@seqcast/testing';
import { ServiceProcess, type ServiceName } from './support/service-process';

const PARTITIONS = 3;
const DOWN_DEADLINE_MS = 15_000;
const DATABASE_BACK_DEADLINE_MS = 15_000;
/** Consumers rejoin their groups after a broker restart, once the old members' sessions expired, see above. */
const KAFKA_BACK_DEADLINE_MS = 60_000;

type Dependency = 'database' | 'kafka';

const readyz = (service: ServiceProcess) => fetchReadiness(service.url);

async function healthz(service: ServiceProcess): Promise<number> {
  const response = await fetch(`${service.url}/healthz`, { signal: AbortSignal.timeout(5_000) });
  await response.arrayBuffer();
  return response.status;
}

const duration = (ms: number) => (ms < 1_000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`);

describe('readiness tells the truth (real processes, own broker, PostgreSQL behind a proxy)', () => {
  let broker: DedicatedKafka | undefined;
  let database: TestDatabase | undefined;
  let proxy: TcpProxy | undefined;
  const services: ServiceProcess[] = [];
  /** `<service> <dependency> 503 after X / 200 after Y` for the summary line. */
  const figures: string[] = [];

  beforeAll(async () => {
    broker = await createDedicatedKafka();
    await broker.start();
    database = await createTestDatabase();
    const url = new URL(database.url);
    proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
    url.port = String(proxy.port);

    const topics = uniqueTopics('e2e-ready');
    const run = randomBytes(3).toString('hex');
    // As support/stack.ts wires a stack, but on this test's broker and through the proxy.
    const env: Record<string, string> = {
      NODE_ENV: 'test',
      LOG_LEVEL: 'log',
      KAFKA_BROKERS: broker.broker,
      SEQCAST_MESSAGES_TOPIC: topics.messagesTopic,
      SEQCAST_EVENTS_TOPIC: topics.eventsTopic,
      SEQCAST_PARTITIONS: String(PARTITIONS),
      DATABASE_URL: url.toString(),
      SEQCAST_JWT_SECRET: TEST_JWT_SECRET,
      WORKER_GROUP_ID: `e2e-ready-worker-${run}`,
    };
    const create = async (name: ServiceName, extraEnv: Record<string, string> = {}) => {
      const service = new ServiceProcess(name, await freePort(), { ...env, ...extraEnv }, `${name}-ready-${run}`);
      services.push(service);
      return service;
    };
    // The worker creates the schema and topics first; the others then find them in place.
    const worker = await create('ordering-worker');
    await worker.start();
    const ingest = await create('ingest-api');
    const gateway = await create('edge-gateway', { GATEWAY_INSTANCE_ID: `e2e-ready-gw-${run}` });
    await Promise.all([ingest.start(), gateway.start()]);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop(10_000).catch(() => undefined)));
    await proxy?.close();
    await database?.drop().catch(() => undefined);
    await broker?.destroy();
    if (figures.length > 0) {
      console.log(
        `e2e readiness flips (/readyz 503 after the cut began / 200 after the dependency was back): ${figures.join('; ')}`,
      );
    }
  }, 60_000);

  /** Names any service process that died along the way. */
  function expectAllRunning(): void {
    expect(services.filter((s) => !s.running).map((s) => `${s.label} exited (${JSON.stringify(s.exit)})`)).toEqual([]);
  }

  async function expectAllReady(): Promise<void> {
    for (const service of services) {
      const ready = await readyz(service);
      const failing = Object.fromEntries(Object.entries(ready.body.checks).filter(([, result]) => result !== 'ok'));
      expect({ service: service.name, status: ready.status, failing }).toEqual({
        service: service.name,
        status: 200,
        failing: {},
      });
      expect(Object.keys(ready.body.checks)).toEqual(expect.arrayContaining(['kafka', 'database']));
      expect(await healthz(service)).toBe(200);
    }
  }

  /**
   * Pulls `dependency`'s plug with `cut`, waits (per service, concurrently) until /readyz answers
   * 503 naming it while /healthz keeps answering 200, puts it back with `restore`, and waits until
   * every /readyz is 200 with all checks ok. Records the flip times per service in `figures`.
   */
  async function outage(
    dependency: Dependency,
    cut: () => Promise<void>,
    restore: () => Promise<void>,
    backDeadlineMs: number,
  ): Promise<void> {
    const other: Dependency = dependency === 'database' ? 'kafka' : 'database';
    const cutAt = Date.now();
    // Polled while the plug is being pulled (stopping a broker takes a few seconds): time to 503
    // counts from the start of the cut.
    const cutting = cut().then(() => Date.now() - cutAt);
    const down = await Promise.all(
      services.map(async (service) => {
        const unhealthy: number[] = [];
        const probe = await waitFor(
          async () => {
            if (!service.running) return { exited: true as const };
            const health = await healthz(service);
            if (health !== 200) unhealthy.push(health);
            const ready = await readyz(service);
            if (ready.status !== 503 || !ready.body.checks[dependency]?.startsWith('error: ')) {
              throw new Error(`last /readyz ${ready.status} ${JSON.stringify(ready.body.checks)}`);
            }
            return { exited: false as const, ready };
          },
          {
            timeoutMs: DOWN_DEADLINE_MS,
            intervalMs: 100,
            what: `${service.label} /readyz 503 with ${dependency} failing`,
          },
        );
        return { service, ms: Date.now() - cutAt, probe, unhealthy };
      }),
    );
    const cutMs = await cutting;
    for (const { service, probe, unhealthy } of down) {
      expect({ service: service.label, exited: probe.exited }).toEqual({ service: service.label, exited: false });
      expect({ service: service.label, unhealthy }).toEqual({ service: service.label, unhealthy: [] });
      if (probe.exited) continue;
      expect(probe.ready.body.checks).toMatchObject({
        [dependency]: expect.stringMatching(/^error: \S/),
        [other]: 'ok',
      });
    }
    // Still down a moment later, and still alive: liveness must not follow readiness.
    for (const service of services) {
      expect((await readyz(service)).status).toBe(503);
      expect(await healthz(service)).toBe(200);
    }

    const restoreStartedAt = Date.now();
    await restore();
    const restoredAt = Date.now();
    const back = await Promise.all(
      services.map(async (service) => {
        await waitFor(
          async () => {
            if (!service.running) throw new Error(`${service.label} exited (${JSON.stringify(service.exit)})`);
            const ready = await readyz(service);
            // Thrown rather than returned, so a timeout names the checks that kept failing.
            if (ready.status !== 200)
              throw new Error(`last /readyz ${ready.status} ${JSON.stringify(ready.body.checks)}`);
            return true;
          },
          { timeoutMs: backDeadlineMs, intervalMs: 100, what: `${service.label} /readyz 200 with ${dependency} back` },
        );
        return Date.now() - restoredAt;
      }),
    );
    expectAllRunning();
    await expectAllReady();

    const action =
      dependency === 'database'
        ? `PostgreSQL proxy cut in ${duration(cutMs)}, restored in ${duration(restoredAt - restoreStartedAt)}`
        : `broker stop took ${duration(cutMs)}, start ${duration(restoredAt - restoreStartedAt)}`;
    figures.push(
      `${dependency} (${action}): ` +
        down.map(({ service, ms }, i) => `${service.name} ${duration(ms)} / ${duration(back[i])}`).join(', '),
    );
  }

  it('all three are ready and alive with PostgreSQL and Kafka up', async () => {
    expect(services.map((s) => s.name)).toEqual(['ordering-worker', 'ingest-api', 'edge-gateway']);
    expectAllRunning();
    await expectAllReady();
  });

  it('turns every /readyz 503 (database) while PostgreSQL is cut off, /healthz staying 200, and 200 once it is back', async () => {
    await outage(
      'database',
      async () => proxy?.cut(),
      async () => proxy?.restore(),
      DATABASE_BACK_DEADLINE_MS,
    );
  }, 45_000);

  it('turns every /readyz 503 (kafka) while the broker is down, /healthz staying 200, and 200 once it is back', async () => {
    await outage(
      'kafka',
      async () => broker?.stop(),
      async () => broker?.start(),
      KAFKA_BACK_DEADLINE_MS,
    );
  }, 150_000);
});
