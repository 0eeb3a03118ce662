import { randomBytes } from 'node:crypto';
import {
  TEST_JWT_SECRET,
  createTestDatabase,
  freePort,
  testKafkaBrokers,
  uniqueTopics,
  type TestDatabase,
} from '@seqcast/testing';
import { type ServiceName, serviceManifest, ServiceProcess } from './service-process';

/** Creates the schema and topics; the other services then find them in place. */
const FIRST_SERVICE = 'ordering-worker';

export interface StackOptions {
  partitions?: number;
  /** edge-gateway instances started with the stack (default 1), each its own consumer group. */
  gateways?: number;
  /** Extra environment for every edge-gateway of this stack (e.g. ack timeout, backlog bounds). */
  gatewayEnv?: Record<string, string>;
  /** Bootstrap brokers (default: the shared test broker); e.g. a dedicated broker a test may stop. */
  kafkaBrokers?: string[];
  /** Extra environment for every service of this stack (e.g. LOG_LEVEL). */
  env?: Record<string, string>;
}

export interface Stack {
  ingest: ServiceProcess;
  worker: ServiceProcess;
  /** The first gateway (the only one unless `gateways` > 1). */
  gateway: ServiceProcess;
  /** The gateways started with the stack, in order. */
  gateways: ServiceProcess[];
  /** Every process started with the stack: one of each service in services.json (and the extra gateways). */
  services: ServiceProcess[];
  database: TestDatabase;
  env: Record<string, string>;
  /**
   * Starts one more instance of a service on this stack's database and topics (a replacement in a
   * rolling restart, another gateway), waits for it to be ready; `stop()` stops it too.
   */
  spawn(name: ServiceName, extraEnv?: Record<string, string>): Promise<ServiceProcess>;
  stop(): Promise<void>;
}

/**
 * Every service in services.json, built, as real processes on one fresh database and fresh topics,
 * wired the way an operator would (environment variables only).
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const database = await createTestDatabase();
  const topics = uniqueTopics('e2e');
  const run = randomBytes(3).toString('hex');
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'log',
    KAFKA_BROKERS: (options.kafkaBrokers ?? testKafkaBrokers()).join(','),
    SEQCAST_MESSAGES_TOPIC: topics.messagesTopic,
    SEQCAST_EVENTS_TOPIC: topics.eventsTopic,
    SEQCAST_PARTITIONS: String(options.partitions ?? 6),
    DATABASE_URL: database.url,
    SEQCAST_JWT_SECRET: TEST_JWT_SECRET,
    WORKER_GROUP_ID: `e2e-worker-${run}`,
    // The e2e publishers and subscribers share a few principals and one address at full speed;
    // the limits themselves are proven by the ingest and gateway integration tests.
    INGEST_PUBLISH_RATE_PER_SEC: '0',
    GATEWAY_MAX_CONNECTIONS_PER_PRINCIPAL: '0',
    GATEWAY_MAX_CONNECTIONS_PER_IP: '0',
    // Against a cluster (KAFKA_BROKERS naming three brokers) the topics are replicated as in production.
    ...(process.env['SEQCAST_REPLICATION_FACTOR'] ? { SEQCAST_REPLICATION_FACTOR: process.env['SEQCAST_REPLICATION_FACTOR'] } : {}),
    ...options.env,
  };
  const processes: ServiceProcess[] = [];
  const started = new Map<ServiceName, number>();
  const create = async (name: ServiceName, extraEnv: Record<string, string> = {}): Promise<ServiceProcess> => {
    const n = (started.get(name) ?? 0) + 1;
    started.set(name, n);
    const label = n === 1 ? `${name}-${run}` : `${name}-${run}-${n}`;
    const serviceEnv = name === 'edge-gateway' ? { ...env, ...options.gatewayEnv, GATEWAY_INSTANCE_ID: `e2e-gw-${run}-${n}` } : env;
    const service = new ServiceProcess(name, await freePort(), { ...serviceEnv, ...extraEnv }, label);
    processes.push(service);
    return service;
  };
  const stopAll = async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await database.drop();
  };

  try {
    const worker = await create(FIRST_SERVICE);
    await worker.start();
    const others: ServiceProcess[] = [];
    for (const name of Object.keys(serviceManifest.services).filter((n) => n !== FIRST_SERVICE)) {
      const instances = name === 'edge-gateway' ? Math.max(1, options.gateways ?? 1) : 1;
      for (let i = 0; i < instances; i++) others.push(await create(name));
    }
    await Promise.all(others.map((service) => service.start()));
    const ingest = others.find((service) => service.name === 'ingest-api');
    const gateways = others.filter((service) => service.name === 'edge-gateway');
    if (!ingest || gateways.length === 0) throw new Error('services.json lacks ingest-api or edge-gateway');
    return {
      ingest,
      worker,
      gateway: gateways[0],
      gateways,
      services: [worker, ...others],
      database,
      env,
      async spawn(name, extraEnv) {
        const service = await create(name, extraEnv);
        await service.start();
        return service;
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll().catch(() => undefined);
    throw error;
  }
}
