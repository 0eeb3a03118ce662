import { randomBytes } from 'node:crypto';
import { TEST_JWT_SECRET, createTestDatabase, testKafkaBrokers, uniqueTopics, type TestDatabase } from '@seqcast/testing';
import { ServiceProcess, freePort } from './service-process';

export interface Stack {
  ingest: ServiceProcess;
  worker: ServiceProcess;
  gateway: ServiceProcess;
  database: TestDatabase;
  env: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * The three built services as real processes on one fresh database and fresh topics, wired the way
 * an operator would (environment variables only).
 */
export async function startStack(options: { partitions?: number } = {}): Promise<Stack> {
  const database = await createTestDatabase();
  const topics = uniqueTopics('e2e');
  const run = randomBytes(3).toString('hex');
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'log',
    KAFKA_BROKERS: testKafkaBrokers().join(','),
    SEQCAST_MESSAGES_TOPIC: topics.messagesTopic,
    SEQCAST_EVENTS_TOPIC: topics.eventsTopic,
    SEQCAST_PARTITIONS: String(options.partitions ?? 6),
    DATABASE_URL: database.url,
    SEQCAST_JWT_SECRET: TEST_JWT_SECRET,
    WORKER_GROUP_ID: `e2e-worker-${run}`,
  };
  // The worker creates the schema and topics first; the others then find them in place.
  const worker = new ServiceProcess('ordering-worker', await freePort(), env, `ordering-worker-${run}`);
  await worker.start();
  const ingest = new ServiceProcess('ingest-api', await freePort(), env, `ingest-api-${run}`);
  const gateway = new ServiceProcess('edge-gateway', await freePort(), { ...env, GATEWAY_INSTANCE_ID: `e2e-gw-${run}` }, `edge-gateway-${run}`);
  await Promise.all([ingest.start(), gateway.start()]);
  return {
    ingest,
    worker,
    gateway,
    database,
    env,
    async stop() {
      await Promise.all([ingest.stop(), gateway.stop(), worker.stop()]);
      await database.drop();
    },
  };
}
