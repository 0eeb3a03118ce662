import { randomBytes } from 'node:crypto';
import { TEST_JWT_SECRET, createTestDatabase, freePort, testKafkaBrokers, uniqueTopics, type TestDatabase } from '@seqcast/testing';
import jwt from 'jsonwebtoken';
import { Kafka, logLevel } from 'kafkajs';
import { ServiceProcess } from './processes';

export interface SeqcastStack {
  ingest: ServiceProcess;
  worker: ServiceProcess;
  gateways: ServiceProcess[];
  token: string;
  env: Record<string, string>;
  /** One more gateway on the same topics and database (a deploy's new pod). */
  addGateway(): Promise<ServiceProcess>;
  stop(): Promise<void>;
}

export interface StackOptions {
  gateways?: number;
  /** Skip ingest-api (the idle scenario needs only gateways). */
  ingest?: boolean;
  gatewayEnv?: Record<string, string>;
  partitions?: number;
}

/** A publish-and-subscribe-everything token for the bench's rooms. */
export function benchToken(secret = TEST_JWT_SECRET): string {
  return jwt.sign({ sub: 'bench', rooms: ['bench*'] }, secret, { algorithm: 'HS256', expiresIn: '2h' });
}

/** `K=V,K=V` → { K: V }; the bench's results then name the settings they were measured with. */
export function extraServiceEnv(spec: string | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of (spec ?? '').split(',').filter((p) => p.trim())) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new Error(`BENCH_SERVICE_ENV: expected K=V pairs separated by commas, got "${pair}"`);
    env[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
  }
  return env;
}

/**
 * The three built services as real processes on fresh topics and a throw-away database, with their
 * defaults (what a new user measures), configured only through environment variables.
 */
export async function startSeqcast(options: StackOptions = {}): Promise<SeqcastStack> {
  const database: TestDatabase = await createTestDatabase();
  const topics = uniqueTopics('bench');
  const run = randomBytes(3).toString('hex');
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    KAFKA_BROKERS: testKafkaBrokers().join(','),
    SEQCAST_MESSAGES_TOPIC: topics.messagesTopic,
    SEQCAST_EVENTS_TOPIC: topics.eventsTopic,
    SEQCAST_PARTITIONS: String(options.partitions ?? 12),
    DATABASE_URL: database.url,
    SEQCAST_JWT_SECRET: TEST_JWT_SECRET,
    WORKER_GROUP_ID: `bench-worker-${run}`,
    // One test principal drives all the load and opens every socket: the abuse limits (docs/protocol.md
    // "Limits") would measure themselves, not the pipeline.
    INGEST_PUBLISH_RATE_PER_SEC: '0',
    GATEWAY_MAX_CONNECTIONS_PER_PRINCIPAL: '0',
    GATEWAY_MAX_CONNECTIONS_PER_IP: '0',
    // Experiments with a setting without editing code: BENCH_SERVICE_ENV="WORKER_X=1,GATEWAY_Y=2".
    ...extraServiceEnv(process.env['BENCH_SERVICE_ENV']),
  };
  const all: ServiceProcess[] = [];
  let gatewayCount = 0;
  const gateway = async () => {
    const n = ++gatewayCount;
    const service = new ServiceProcess('edge-gateway', await freePort(), { ...env, ...options.gatewayEnv, GATEWAY_INSTANCE_ID: `bench-gw-${run}-${n}` }, `edge-gateway-${run}-${n}`);
    all.push(service);
    return service;
  };
  const stop = async () => {
    await Promise.all(all.map((p) => p.stop(30_000)));
    await database.drop().catch(() => undefined);
    await deleteTopics([topics.messagesTopic, topics.eventsTopic]);
  };
  try {
    // The worker creates the schema and topics; the others then find them in place.
    const worker = new ServiceProcess('ordering-worker', await freePort(), env, `ordering-worker-${run}`);
    all.push(worker);
    await worker.start();
    const ingest = new ServiceProcess('ingest-api', await freePort(), env, `ingest-api-${run}`);
    const gateways: ServiceProcess[] = [];
    for (let i = 0; i < (options.gateways ?? 1); i++) gateways.push(await gateway());
    await Promise.all([...(options.ingest === false ? [] : [(all.push(ingest), ingest.start())]), ...gateways.map((g) => g.start())]);
    return {
      ingest,
      worker,
      gateways,
      token: benchToken(),
      env,
      addGateway: async () => {
        const g = await gateway();
        await g.start();
        return g;
      },
      stop,
    };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}

/**
 * A run's topics go with it. The broker is shared by every run of a sitting, and one that kept each
 * run's 24 partitions (2,000 after a day's sittings) got slower as they piled up, so later runs
 * measured a different broker than earlier ones. Best effort: a broker already gone keeps them.
 */
async function deleteTopics(topics: string[]): Promise<void> {
  const admin = new Kafka({ clientId: 'seqcast-bench', brokers: testKafkaBrokers(), logLevel: logLevel.NOTHING }).admin();
  try {
    await admin.connect();
    await admin.deleteTopics({ topics, timeout: 10_000 });
  } catch {
    // Left for the broker's owner; the next run uses fresh topics either way.
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
