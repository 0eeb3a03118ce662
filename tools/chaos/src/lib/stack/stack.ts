/**
 * The whole system under test, started by the tool so it knows every pid: an own PostgreSQL, an own
 * Kafka (one node or three), the three built services on free loopback ports, and a TCP proxy in
 * front of the gateway for network faults between clients and gateway.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTcpProxy, TEST_JWT_SECRET, type TcpProxy } from '@seqcast/testing';
import { Cleanup } from './cleanup';
import { OwnKafka } from './kafka';
import { OwnPostgres } from './postgres';
import { ServiceName, ServiceProcess } from './service';

export interface StackOptions {
  workspaceRoot: string;
  /** 3: a KRaft cluster with replication factor 3 and min.insync.replicas=2. */
  brokers: 1 | 3;
  partitions: number;
  log: (line: string) => void;
}

export interface Stack {
  postgres: OwnPostgres;
  kafka: OwnKafka;
  ingest: ServiceProcess;
  worker: ServiceProcess;
  gateway: ServiceProcess;
  /** Clients reach the gateway through this. */
  gatewayProxy: TcpProxy;
  gatewayProxyUrl: string;
  logDir: string;
  services: Record<ServiceName, ServiceProcess>;
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * `count` consecutive free loopback ports (kafka.sh derives a cluster's ports from the first), below
 * Linux's ephemeral range (32768+) so no outgoing connection takes one before our process binds it.
 */
export async function freePortRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = 12_000 + Math.floor(Math.random() * 20_000);
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = await portFree(p);
    if (ok) return base;
  }
  throw new Error(`no ${count} consecutive free ports found`);
}

export async function startStack(options: StackOptions, cleanup: Cleanup): Promise<Stack> {
  const run = `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(2).toString('hex')}`;
  const logDir = join(options.workspaceRoot, 'tmp/chaos', run);
  mkdirSync(logDir, { recursive: true });
  const dataDir = mkdtempSync(join(tmpdir(), 'seqcast-chaos-'));
  // PostgreSQL may run as another OS user (see postgres.ts): it must be able to reach its directory.
  chmodSync(dataDir, 0o711);
  cleanup.add('temporary data directory', () => rmSync(dataDir, { recursive: true, force: true }));

  const ports = await freePortRange(2 * options.brokers + 4);
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
  const service = (name: ServiceName, port: number) => new ServiceProcess(name, port, env, options.workspaceRoot, logDir, cleanup);
  const services: Record<ServiceName, ServiceProcess> = {
    'ordering-worker': service('ordering-worker', base),
    'ingest-api': service('ingest-api', base + 1),
    'edge-gateway': service('edge-gateway', base + 2),
  };
  options.log('starting ordering-worker (it creates the schema and topics), then ingest-api and edge-gateway');
  await services['ordering-worker'].start();
  await Promise.all([services['ingest-api'].start(), services['edge-gateway'].start()]);
  const gatewayProxy = await startTcpProxy({ host: '127.0.0.1', port: services['edge-gateway'].port });
  cleanup.add('gateway proxy', () => gatewayProxy.close());
  return {
    postgres,
    kafka,
    ingest: services['ingest-api'],
    worker: services['ordering-worker'],
    gateway: services['edge-gateway'],
    gatewayProxy,
    gatewayProxyUrl: `http://127.0.0.1:${gatewayProxy.port}`,
    logDir,
    services,
  };
}
