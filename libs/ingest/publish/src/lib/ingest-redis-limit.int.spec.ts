/**
 * The publish rate limit shared through Redis (SEQCAST_REDIS_URL): two ingest-api instances on the
 * real broker and database count one principal against one budget, and when Redis goes away each
 * falls back to its own in-memory budget at once (publishes neither hang nor fail). Runs its own
 * throw-away redis-server (Debian package `redis-server`) on a free port.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createKafka, ensureTopics, type Kafka } from '@seqcast/kafka';
import { type DataSource, openDatabase } from '@seqcast/persistence';
import type { RateLimitStore } from '@seqcast/publish-core';
import {
  createTestDatabase,
  freePort,
  type TestDatabase,
  testKafkaBrokers,
  uniqueTopics,
  waitFor,
} from '@seqcast/testing';
import Redis from 'ioredis';
import { callApi, type RunningIngestService, startIngestService } from '../testing';
import { RATE_LIMIT_STORE } from './publish-rate-limit.guard';

const REDIS_SERVER = process.env['REDIS_SERVER_BIN'] ?? 'redis-server';

async function startRedis(): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    REDIS_SERVER,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  const spawnError = new Promise<never>((_, reject) =>
    child.once('error', (error) =>
      reject(
        new Error(
          `cannot run ${REDIS_SERVER} (apt-get install redis-server, or set REDIS_SERVER_BIN): ${error.message}`,
        ),
      ),
    ),
  );
  const url = `redis://127.0.0.1:${port}`;
  const probe = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  await Promise.race([
    spawnError,
    waitFor(
      async () => {
        try {
          if (probe.status !== 'ready') await probe.connect();
          return (await probe.ping()) === 'PONG';
        } catch {
          probe.disconnect();
          return false;
        }
      },
      { timeoutMs: 15_000, what: 'redis-server to answer PING' },
    ),
  ]);
  probe.disconnect();
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}

describe('publish rate limit shared through Redis (real Kafka, PostgreSQL and redis-server)', () => {
  const { messagesTopic } = uniqueTopics('ingest-redis');
  let database: TestDatabase;
  let dataSource: DataSource;
  let kafka: Kafka;
  let redis: { url: string; stop(): Promise<void> };
  let first: RunningIngestService;
  let second: RunningIngestService;

  beforeAll(async () => {
    redis = await startRedis();
    database = await createTestDatabase();
    dataSource = await openDatabase({ url: database.url, runMigrations: true });
    kafka = createKafka({ brokers: testKafkaBrokers(), clientId: 'ingest-redis-int' });
    await ensureTopics(kafka, [{ name: messagesTopic, partitions: 3 }]);
    const options = { kafka, dataSource, messagesTopic, partitions: 3, publishRatePerSec: 10, redisUrl: redis.url };
    first = await startIngestService(options);
    second = await startIngestService(options);
  });

  afterAll(async () => {
    await first?.close();
    await second?.close();
    await redis?.stop();
    await dataSource?.destroy();
    await database?.drop();
  });

  it("counts one principal's publishes on every instance against one budget", async () => {
    const messages = Array.from({ length: 500 }, (_, i) => ({ roomId: 'lobby', clientMsgId: `rr-${i}`, payload: i }));
    // The stores connect in the background (publishes never wait for them): wait until both are.
    await waitFor(
      () => [first, second].every((s) => s.app.get<RateLimitStore>(RATE_LIMIT_STORE).client?.status === 'ready'),
      { timeoutMs: 15_000, what: 'both instances connected to Redis' },
    );
    expect((await callApi(first.baseUrl, 'POST', '/v1/messages/batch', { json: { messages } })).status).toBe(202);
    const elsewhere = await callApi(second.baseUrl, 'POST', '/v1/rooms/lobby/messages', {
      json: { clientMsgId: 'rr-second', payload: 1 },
    });
    expect(elsewhere.status).toBe(429);
    expect(elsewhere.body).toMatchObject({ error: { code: 'rate_limited' } });
  });

  it('falls back to per-instance budgets at once when Redis is gone', async () => {
    await redis.stop();
    const reply = await callApi(second.baseUrl, 'POST', '/v1/rooms/lobby/messages', {
      json: { clientMsgId: 'rr-fallback', payload: 1 },
    });
    // The second instance's own budget is untouched: the shared one's exhaustion no longer applies.
    expect(reply.status).toBe(202);
  });
});
