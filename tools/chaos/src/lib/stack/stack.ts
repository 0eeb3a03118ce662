/**
 * The whole system under test, started by the tool so it knows every pid: an own PostgreSQL, an own
 * Kafka (one node or three), the three built services on free loopback ports, and a TCP proxy in
 * front of the gateway for network faults between clients and gateway.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ephemeralPortFloor, freePort, portFree, startTcpProxy, TEST_JWT_SECRET, type TcpProxy } from '@seqcast/testing';
import { ServiceBalancer } from './balancer';
import { Cleanup } from './cleanup';
import { OwnKafka } from './kafka';
import { OwnPostgres } from './postgres';
import { ServiceName, ServiceProcess } from './service';

export interface StackOptions {
  workspaceRoot: string;
  /** 3: a KRaft cluster with replication factor 3 and min.insync.replicas=2. */
  brokers: 1 | 3;
  partitions: number;
  /**
   * Loopback ports the stack may use, inclusive (`--ports 36000-36299`): brokers, PostgreSQL,
   * services, balancers and management ports all come from it. Default: a random free block below
   * the ephemeral range, management ports from the OS.
   */
  ports?: { from: number; to: number };
  log: (line: string) => void;
}

/** The services clients connect to, each behind a ServiceBalancer (its Kubernetes Service). */
type FrontedService = 'ingest-api' | 'edge-gateway';

export interface Stack {
  postgres: OwnPostgres;
  kafka: OwnKafka;
  /** The current process of each service (a surge roll replaces them). */
  ingest: ServiceProcess;
  worker: ServiceProcess;
  gateway: ServiceProcess;
  /** Publishers and history reads go here (ingest-api's balancer). */
  ingestUrl: string;
  /** The direct subscriber connects here (edge-gateway's balancer). */
  gatewayUrl: string;
  /** In front of the gateway's balancer: the faulty network of `sub-a`. */
  gatewayProxy: TcpProxy;
  gatewayProxyUrl: string;
  logDir: string;
  services: Record<ServiceName, ServiceProcess>;
  /**
   * The chart's rolling update of one service (`maxSurge: 1, maxUnavailable: 0`): a new process on
   * the service's other port, ready; then the old one leaves the balancer's endpoints and gets
   * SIGTERM (it drains), and the new one is the current process.
   */
  surgeRestart(name: ServiceName): Promise<void>;
}

/**
 * `count` consecutive free loopback ports (kafka.sh derives a cluster's ports from the first): within
 * `range` if given, else below Linux's ephemeral range (32768+) so no outgoing connection takes one
 * before our process binds it.
 */
export async function freePortRange(count: number, range?: { from: number; to: number }): Promise<number> {
  const candidates = range
    ? Array.from({ length: Math.max(0, range.to - range.from - count + 2) }, (_, i) => range.from + i)
    : Array.from({ length: 200 }, () => 12_000 + Math.floor(Math.random() * (ephemeralPortFloor() - 12_000 - count)));
  for (const base of candidates) {
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = await portFree(p);
    if (ok) return base;
  }
  throw new Error(`no ${count} consecutive free ports found${range ? ` in ${range.from}-${range.to}` : ''}`);
}

/** Free ports from `from` to `to`, round robin (a port given out is reused only after the others). */
function portCycle(from: number, to: number): () => Promise<number> {
  let next = from;
  return async () => {
    for (let tried = 0; tried <= to - from; tried++) {
      const port = next;
      next = next >= to ? from : next + 1;
      if (await portFree(port)) return port;
    }
    throw new Error(`no free port left in ${from}-${to}`);
  };
}

export async function startStack(options: StackOptions, cleanup: Cleanup): Promise<Stack> {
  const run = `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(2).toString('hex')}`;
  const logDir = join(options.workspaceRoot, 'tmp/chaos', run);
  mkdirSync(logDir, { recursive: true });
  const dataDir = mkdtempSync(join(tmpdir(), 'seqcast-chaos-'));
  // PostgreSQL may run as another OS user (see postgres.ts): it must be able to reach its directory.
  chmodSync(dataDir, 0o711);
  cleanup.add('temporary data directory', () => rmSync(dataDir, { recursive: true, force: true }));

  // Brokers (2 each), PostgreSQL, two ports per service (the second for a surge replacement), and
  // the two balancers.
  const blockSize = 2 * options.brokers + 9;
  const ports = await freePortRange(blockSize, options.ports);
  const managementPort = options.ports ? portCycle(ports + blockSize, options.ports.to) : freePort;
  const kafka = new OwnKafka(options.workspaceRoot, join(dataDir, 'kafka'), ports, options.brokers, cleanup);
  const postgres = new OwnPostgres(join(dataDir, 'pg'), ports + 2 * options.brokers, join(logDir, 'postgres.log'), cleanup);
  options.log(`logs in ${logDir}; starting PostgreSQL (port ${postgres.port}) and Kafka (${options.brokers} node(s) from port ${ports})`);
  // Both settle before a failure is thrown, so the cleanup never races a half-started broker.
  const started = await Promise.allSettled([postgres.init(), kafka.start()]);
  for (const outcome of started) if (outcome.status === 'rejected') throw outcome.reason;

  const env: Record<string, string> = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'log',
    KAFKA_BROKERS: kafka.bootstrap,
    SEQCAST_MESSAGES_TOPIC: 'chaos.messages',
    SEQCAST_EVENTS_TOPIC: 'chaos.events',
    SEQCAST_PARTITIONS: String(options.partitions),
    SEQCAST_REPLICATION_FACTOR: String(options.brokers),
    DATABASE_URL: postgres.url,
    SEQCAST_JWT_SECRET: TEST_JWT_SECRET,
    WORKER_GROUP_ID: 'chaos-worker',
    // One test principal drives all the load and opens every socket: the abuse limits (docs/protocol.md
    // "Limits") would measure themselves, not the pipeline.
    INGEST_PUBLISH_RATE_PER_SEC: '0',
    GATEWAY_MAX_CONNECTIONS_PER_PRINCIPAL: '0',
    GATEWAY_MAX_CONNECTIONS_PER_IP: '0',
  };
  const base = ports + 2 * options.brokers + 1;
  const portPairs: Record<ServiceName, [number, number]> = {
    'ordering-worker': [base, base + 3],
    'ingest-api': [base + 1, base + 4],
    'edge-gateway': [base + 2, base + 5],
  };
  const service = (name: ServiceName, port: number) => new ServiceProcess(name, port, env, options.workspaceRoot, logDir, cleanup, managementPort);
  const services: Record<ServiceName, ServiceProcess> = {
    'ordering-worker': service('ordering-worker', portPairs['ordering-worker'][0]),
    'ingest-api': service('ingest-api', portPairs['ingest-api'][0]),
    'edge-gateway': service('edge-gateway', portPairs['edge-gateway'][0]),
  };
  options.log('starting ordering-worker (it creates the schema and topics), then ingest-api and edge-gateway');
  await services['ordering-worker'].start();
  await Promise.all([services['ingest-api'].start(), services['edge-gateway'].start()]);
  const balancers: Record<FrontedService, ServiceBalancer> = {
    'ingest-api': await ServiceBalancer.listen(base + 6, [services['ingest-api'].port]),
    'edge-gateway': await ServiceBalancer.listen(base + 7, [services['edge-gateway'].port]),
  };
  for (const balancer of Object.values(balancers)) cleanup.add(`balancer :${balancer.port}`, () => balancer.close());
  const gatewayProxy = await startTcpProxy({ host: '127.0.0.1', port: balancers['edge-gateway'].port });
  cleanup.add('gateway proxy', () => gatewayProxy.close());

  const stack: Stack = {
    postgres,
    kafka,
    ingest: services['ingest-api'],
    worker: services['ordering-worker'],
    gateway: services['edge-gateway'],
    ingestUrl: balancers['ingest-api'].url,
    gatewayUrl: balancers['edge-gateway'].url,
    gatewayProxy,
    gatewayProxyUrl: `http://127.0.0.1:${gatewayProxy.port}`,
    logDir,
    services,
    surgeRestart: async (name) => {
      const old = services[name];
      const [first, second] = portPairs[name];
      const next = service(name, old.port === first ? second : first);
      await next.start();
      const balancer = name === 'ordering-worker' ? undefined : balancers[name];
      balancer?.add(next.port);
      services[name] = next;
      if (name === 'ordering-worker') stack.worker = next;
      else if (name === 'ingest-api') stack.ingest = next;
      else stack.gateway = next;
      balancer?.remove(old.port);
      await old.terminate();
    },
  };
  return stack;
}
