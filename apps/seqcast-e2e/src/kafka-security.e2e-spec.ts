/**
 * Issue 14 §1: the three built services, as real processes, on a broker that only accepts
 * SASL_SSL with a client certificate (certificates made in the test with openssl, SCRAM users by
 * the broker's own StorageTool). Configured by env variables only, with the password as a mounted
 * file, as the chart does. A message published over HTTP is delivered to a Socket.IO subscriber;
 * a service given a wrong password exits 1 with a line naming the variables instead of waiting.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signToken } from '@seqcast/auth';
import type { MessagesEvent, SubscribeAck } from '@seqcast/contracts';
import {
  TEST_JWT_SECRET,
  createTestDatabase,
  type SecuredKafka,
  startSecuredKafka,
  type TestDatabase,
  uniqueTopics,
  waitFor,
} from '@seqcast/testing';
import { io, type Socket } from 'socket.io-client';
import { ServiceProcess, type ServiceName } from './support/service-process';

const USER = 'seqcast-e2e';
const PASSWORD = 'e2e-secret';
// Ports reserved for this suite (the broker takes 29620-29622), below the ephemeral range like the
// broker's; override when they clash locally.
const BASE_PORT = Number(process.env['SEQCAST_SECURED_E2E_PORT'] ?? 29640);
const ROOM = 'secured-room';
const token = signToken({ sub: 'e2e-secured', rooms: [ROOM] }, TEST_JWT_SECRET);

describe('services on a SASL_SSL broker with mutual TLS (real processes)', () => {
  let secured: SecuredKafka;
  let database: TestDatabase;
  let secretsDir: string;
  let env: Record<string, string>;
  const services: ServiceProcess[] = [];
  let socket: Socket | undefined;
  let nextPort = BASE_PORT;

  /** Whether `port` can be listened on now (the range lies in Linux's ephemeral range, so an outgoing connection may hold it). */
  function bindable(port: number): Promise<boolean> {
    return new Promise((resolve) => {
      const probe = createServer();
      probe.once('error', () => resolve(false));
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
  }

  async function service(name: ServiceName, extraEnv: Record<string, string> = {}): Promise<ServiceProcess> {
    for (;;) {
      const [port, managementPort] = [nextPort, nextPort + 1];
      nextPort += 2;
      if (nextPort > BASE_PORT + 40) throw new Error(`no bindable port pair left in ${BASE_PORT}-${BASE_PORT + 40}`);
      if (!(await bindable(port)) || !(await bindable(managementPort))) continue;
      const created = new ServiceProcess(name, port, { ...env, ...extraEnv }, `${name}-secured-${randomBytes(3).toString('hex')}`);
      created.managementPort = managementPort;
      services.push(created);
      return created;
    }
  }

  /** start(), once more on other ports if a port was taken between the probe and the listen. */
  async function started(name: ServiceName, extraEnv: Record<string, string> = {}): Promise<ServiceProcess> {
    const first = await service(name, extraEnv);
    try {
      await first.start(90_000);
      return first;
    } catch (error) {
      if (!(await readFile(first.logPath, 'utf8')).includes('EADDRINUSE')) throw error;
      const second = await service(name, extraEnv);
      await second.start(90_000);
      return second;
    }
  }

  beforeAll(async () => {
    secretsDir = await mkdtemp(join(tmpdir(), 'seqcast-e2e-secrets-'));
    const passwordFile = join(secretsDir, 'password');
    await writeFile(passwordFile, `${PASSWORD}\n`);
    [secured, database] = await Promise.all([startSecuredKafka({ [USER]: PASSWORD }), createTestDatabase()]);
    const topics = uniqueTopics('e2e-secured');
    env = {
      NODE_ENV: 'test',
      LOG_LEVEL: 'log',
      KAFKA_BROKERS: secured.broker,
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA_FILE: secured.caFile,
      KAFKA_SSL_CERT_FILE: secured.clientCertFile,
      KAFKA_SSL_KEY_FILE: secured.clientKeyFile,
      KAFKA_SASL_MECHANISM: 'scram-sha-256',
      KAFKA_SASL_USERNAME: USER,
      KAFKA_SASL_PASSWORD_FILE: passwordFile,
      SEQCAST_MIN_INSYNC_REPLICAS: '1',
      SEQCAST_MESSAGES_TOPIC: topics.messagesTopic,
      SEQCAST_EVENTS_TOPIC: topics.eventsTopic,
      SEQCAST_PARTITIONS: '2',
      DATABASE_URL: database.url,
      SEQCAST_JWT_SECRET: TEST_JWT_SECRET,
      WORKER_GROUP_ID: `e2e-secured-worker-${randomBytes(3).toString('hex')}`,
    };
  }, 180_000);

  afterAll(async () => {
    socket?.close();
    await Promise.all(services.map((s) => s.stop(10_000).catch(() => undefined)));
    await database?.drop().catch(() => undefined);
    await secured?.destroy();
    await rm(secretsDir, { recursive: true, force: true });
  }, 90_000);

  it('delivers a message published over HTTP to a Socket.IO subscriber', async () => {
    await started('ordering-worker');
    const [ingest, gateway] = await Promise.all([
      started('ingest-api'),
      started('edge-gateway', { GATEWAY_INSTANCE_ID: `e2e-secured-gw-${randomBytes(3).toString('hex')}` }),
    ]);

    const received: string[] = [];
    socket = io(gateway.url, { auth: { token }, transports: ['websocket'], reconnection: false });
    socket.on('messages', (event: MessagesEvent) => {
      for (const message of event.messages) received.push(message.clientMsgId);
      const last = event.messages[event.messages.length - 1];
      if (last) socket?.emit('ack', { roomId: event.roomId, seq: last.seq });
    });
    await new Promise<void>((resolve, reject) => {
      socket?.once('connect', () => resolve());
      socket?.once('connect_error', reject);
    });
    const ack = (await socket.timeout(10_000).emitWithAck('subscribe', { roomId: ROOM })) as SubscribeAck;
    expect(ack.ok).toBe(true);

    for (const clientMsgId of ['m1', 'm2', 'm3']) {
      const res = await fetch(`${ingest.url}/v1/rooms/${ROOM}/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ clientMsgId, payload: { clientMsgId } }),
      });
      expect(res.status).toBe(202);
    }
    await waitFor(() => received.length >= 3, { timeoutMs: 30_000, what: 'three messages delivered over the socket' });
    expect(received).toEqual(['m1', 'm2', 'm3']);
  }, 300_000);

  it('a wrong password ends start-up with exit 1 and a line naming the variables, not a wait', async () => {
    const worker = await service('ordering-worker', {
      KAFKA_SASL_PASSWORD_FILE: '',
      KAFKA_SASL_PASSWORD: 'wrong-secret',
      WORKER_GROUP_ID: `e2e-secured-denied-${randomBytes(3).toString('hex')}`,
    });
    // start() only gives up at its ready deadline even once the process is gone, so watch the exit.
    const starting = worker.start(30_000);
    starting.catch(() => undefined);
    await waitFor(() => worker.exit !== null, { timeoutMs: 30_000, what: 'the worker with a wrong password to exit' });
    expect(worker.exit).toEqual({ code: 1, signal: null });
    await expect(starting).rejects.toThrow(/exited with 1/);
    const log = await readFile(worker.logPath, 'utf8');
    expect(log).toMatch(/cannot start: Kafka refused the SASL credentials .*KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD/);
  });
});
