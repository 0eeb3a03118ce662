/**
 * Integration-test harness (never exported): the gateway as a Nest app on an ephemeral loopback
 * port against the real broker and a throw-away PostgreSQL database, real socket.io-client
 * sockets, sequenced messages committed to seqcast_messages and then published to a fresh events
 * topic (exactly as the ordering worker does), and a loopback TCP proxy that can freeze a peer.
 */
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { signToken } from '@seqcast/auth';
import type {
  ClientToServerEvents,
  Message,
  MessagesEvent,
  ServerRestartEvent,
  ServerToClientEvents,
  SlowConsumerEvent,
  SubscribeAck,
} from '@seqcast/contracts';
import { createKafka, ensureTopics, type Kafka, RoomProducer } from '@seqcast/kafka';
import {
  HealthModule,
  MetricsModule,
  type RunningManagementServer,
  startManagementServer,
} from '@seqcast/observability';
import { type DataSource, MessageHistoryRepository, openDatabase } from '@seqcast/persistence';
import { partitionForRoom } from '@seqcast/room-partitioner';
import {
  createTestDatabase,
  TEST_JWT_SECRET,
  type TestDatabase,
  testKafkaBrokers,
  testKafkaClient,
  uniqueTopics,
  waitFor,
} from '@seqcast/testing';
import { randomBytes } from 'node:crypto';
import { type AddressInfo, createServer, type Server, type Socket as NetSocket, connect as netConnect } from 'node:net';
import { register } from 'prom-client';
import { io, type Socket } from 'socket.io-client';
import { DeliveryModule } from '../lib/delivery.module';
import type { DrainOptions } from '../lib/drain.service';
import { DrainService } from '../lib/drain.service';
import { EdgeIoAdapter } from '../lib/edge-io.adapter';
import { EventsConsumerService } from '../lib/events-consumer.service';
import type { GatewayLimitOptions } from '../lib/gateway-limits';
import { type SubscriptionOptions, SubscriptionService } from '../lib/subscription.service';
import type { SseOptions } from '../lib/sse/sse.controller';
import type { PresenceOptions } from '../lib/presence/presence.service';
import type { SocketPublishOptions } from '../lib/socket-publish';

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export const PARTITIONS = 3;
const ACK_WAIT_MS = 10_000;

export interface HarnessOptions {
  subscriptions?: SubscriptionOptions;
  drain?: Partial<DrainOptions>;
  pingIntervalMs?: number;
  pingTimeoutMs?: number;
  /** Also serve GET /metrics and GET /readyz (with the 'draining' check) on a management listener, as the app does. */
  http?: boolean;
  /** Fetch only partitions of rooms with subscribers, as the app does (PartitionInterest). */
  partitionInterest?: boolean;
  /** GATEWAY_TOKEN_REFRESH_LEAD_MS. */
  tokenRefreshLeadMs?: number;
  /** Default: no limits. */
  limits?: GatewayLimitOptions;
  /** SEQCAST_ALLOWED_ORIGINS as resolved; default any. */
  allowedOrigins?: string[];
  /** Serve SSE (GET /v1/rooms/:roomId/events) with these settings (origins default to allowedOrigins). */
  sse?: Partial<SseOptions>;
  /** Enable presence with these settings (gatewayId defaults to a random one). */
  presence?: Partial<PresenceOptions>;
  /** Accept socket `publish` to a fresh messages topic (`messagesTopic`); default limits: 64 KiB, no rate limit. */
  publish?: Partial<SocketPublishOptions>;
}

/** A connected socket.io-client socket recording everything the gateway sends it. */
export interface TestClient {
  socket: ClientSocket;
  received: MessagesEvent[];
  /** When each message arrived, for latency figures. */
  arrivals: { seq: number; at: number; sentAt: number }[];
  slowConsumer: SlowConsumerEvent[];
  serverRestart: ServerRestartEvent[];
  /** Date.now() when each server_restart arrived. */
  serverRestartAt: number[];
  disconnectReason: string | undefined;
  /** Date.now() when the connection ended. */
  disconnectedAt: number | undefined;
  /** Every seq received for the room, in arrival order (with redeliveries). */
  seqs(roomId: string): number[];
  /** What a client keeps: seqs above the last it holds, in order (duplicates dropped). */
  held(roomId: string): number[];
}

export interface ClientOptions {
  /** Ack every `messages` event right away (the SDK acks, batched). */
  autoAck?: boolean;
  /** Connect to this URL instead of the gateway (e.g. through a TcpProxy). */
  url?: string;
  sub?: string;
}

export class GatewayHarness {
  db!: TestDatabase;
  dataSource!: DataSource;
  kafka!: Kafka;
  producer!: RoomProducer;
  eventsTopic!: string;
  /** With `publish`: where socket publishes are written. */
  messagesTopic!: string;
  groupId!: string;
  app!: INestApplication;
  url!: string;
  port!: number;
  /** With `http: true`: the management listener (/metrics, /readyz), as MANAGEMENT_PORT in the app. */
  managementUrl!: string;
  private management?: RunningManagementServer;
  epoch!: string;
  private readonly sockets: ClientSocket[] = [];
  private readonly lastSeq = new Map<string, number>();
  private nextOffset = 0;

  static async start(options: HarnessOptions = {}): Promise<GatewayHarness> {
    const harness = new GatewayHarness();
    await harness.init(options);
    return harness;
  }

  get subscriptions(): SubscriptionService {
    return this.app.get(SubscriptionService);
  }

  get drain(): DrainService {
    return this.app.get(DrainService);
  }

  private async init(options: HarnessOptions): Promise<void> {
    this.db = await createTestDatabase();
    this.dataSource = await openDatabase({ url: this.db.url, runMigrations: true });
    this.epoch = await new MessageHistoryRepository(this.dataSource).currentEpoch();

    this.kafka = createKafka({
      brokers: testKafkaBrokers(),
      clientId: 'gateway-delivery-int',
      client: testKafkaClient(),
    });
    ({ eventsTopic: this.eventsTopic, messagesTopic: this.messagesTopic } = uniqueTopics('gateway'));
    await ensureTopics(this.kafka, [
      { name: this.eventsTopic, partitions: PARTITIONS },
      ...(options.publish ? [{ name: this.messagesTopic, partitions: PARTITIONS }] : []),
    ]);
    this.producer = new RoomProducer(this.kafka, { partitions: PARTITIONS });
    await this.producer.connect();

    this.groupId = `seqcast-gateway-int-${randomBytes(4).toString('hex')}`;
    const delivery = DeliveryModule.register({
      eventsTopic: this.eventsTopic,
      groupId: this.groupId,
      jwtSecret: TEST_JWT_SECRET,
      tokenRefreshLeadMs: options.tokenRefreshLeadMs,
      kafka: { useFactory: () => this.kafka },
      dataSource: { useFactory: () => this.dataSource },
      subscriptions: options.subscriptions,
      drain: options.drain,
      partitions: options.partitionInterest ? PARTITIONS : undefined,
      limits: options.limits,
      sse: options.sse
        ? { heartbeatMs: 15_000, retryMs: 2_000, allowedOrigins: options.allowedOrigins ?? ['*'], ...options.sse }
        : undefined,
      presence: options.presence
        ? {
            gatewayId: `gw-${randomBytes(4).toString('hex')}`,
            ttlMs: 15_000,
            pollMs: 100,
            maxMembers: 100,
            ...options.presence,
          }
        : undefined,
      publish: options.publish
        ? {
            messagesTopic: this.messagesTopic,
            partitions: PARTITIONS,
            maxPayloadBytes: 65_536,
            rateLimit: { messagesPerSecond: 0 },
            ...options.publish,
          }
        : undefined,
    });
    const imports = options.http
      ? [
          delivery,
          MetricsModule.forRoot({ service: 'edge-gateway-int' }),
          HealthModule.forRoot({
            imports: [delivery],
            inject: [DrainService, EventsConsumerService],
            useFactory: (drain: DrainService, events: EventsConsumerService) => [
              { name: 'draining', check: () => drain.checkNotDraining() },
              { name: 'events-consumer', check: () => events.checkConsuming() },
            ],
          }),
        ]
      : [delivery];
    const moduleRef = await Test.createTestingModule({ imports }).compile();
    this.app = moduleRef.createNestApplication({ logger: ['error'] });
    this.app.useWebSocketAdapter(
      new EdgeIoAdapter(this.app, {
        pingIntervalMs: options.pingIntervalMs ?? 25_000,
        pingTimeoutMs: options.pingTimeoutMs ?? 20_000,
        allowedOrigins: options.allowedOrigins ?? ['*'],
      }),
    );
    await this.app.listen(0, '127.0.0.1');
    this.port = (this.app.getHttpServer().address() as AddressInfo).port;
    this.url = `http://127.0.0.1:${this.port}`;
    if (options.http) {
      this.management = await startManagementServer(this.app, { host: '127.0.0.1', port: 0 });
      this.managementUrl = this.management.url;
    }

    // The group starts at the latest offset: publish nothing until it has resolved where that is.
    const events = this.app.get(EventsConsumerService);
    await waitFor(() => events.checkConsuming().then(() => true), { timeoutMs: 30_000, what: 'the events consumer' });
  }

  /** Closes the sockets, the app (unless a test already did), Kafka and the database. */
  async stop(closeApp = true): Promise<void> {
    for (const socket of this.sockets) socket.disconnect();
    if (closeApp) await this.app?.close();
    await this.management?.close();
    await this.producer?.disconnect();
    const admin = this.kafka?.admin();
    if (admin) {
      await admin.connect();
      await admin.deleteTopics({ topics: [this.eventsTopic] }).catch(() => undefined);
      await admin.deleteGroups([this.groupId]).catch(() => undefined);
      await admin.disconnect();
    }
    if (this.dataSource?.isInitialized) await this.dataSource.destroy();
    await this.db?.drop();
  }

  /** Sequenced messages for a room; seqs are sparse like real Kafka offsets shared by rooms. */
  sequence(roomId: string, count: number): Message[] {
    const out: Message[] = [];
    for (let i = 0; i < count; i++) {
      this.nextOffset += 1 + (this.nextOffset % 3);
      const prev = this.lastSeq.get(roomId);
      out.push({
        roomId,
        seq: this.nextOffset,
        prevSeq: prev ?? null,
        epoch: this.epoch,
        clientMsgId: `m-${this.nextOffset}`,
        senderId: 'writer',
        payload: { text: `hello ${this.nextOffset}`, i },
        sentAt: new Date().toISOString(),
        sequencedAt: new Date().toISOString(),
      });
      this.lastSeq.set(roomId, this.nextOffset);
    }
    return out;
  }

  /** The ordering worker's commit (PostgreSQL first, then publish), reduced to the rows the gateway reads. */
  async commit(messages: Message[]): Promise<void> {
    for (const m of messages) {
      await this.dataSource.query(
        `INSERT INTO seqcast_messages
           (epoch, room_id, seq, prev_seq, partition, client_msg_id, sender_id, payload, sent_at, sequenced_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [
          m.epoch,
          m.roomId,
          m.seq,
          m.prevSeq,
          partitionForRoom(m.roomId, PARTITIONS),
          m.clientMsgId,
          m.senderId,
          JSON.stringify(m.payload),
          m.sentAt,
          m.sequencedAt,
        ],
      );
    }
  }

  async publish(messages: Message[]): Promise<void> {
    await this.producer.send(
      this.eventsTopic,
      messages.map((m) => ({ roomId: m.roomId, value: JSON.stringify(m) })),
    );
  }

  async commitAndPublish(roomId: string, count: number): Promise<Message[]> {
    const messages = this.sequence(roomId, count);
    await this.commit(messages);
    await this.publish(messages);
    return messages;
  }

  token(rooms: string[], sub = 'reader'): string {
    return signToken({ sub, rooms }, TEST_JWT_SECRET);
  }

  /** A socket that is not yet connected (for handshake tests). */
  connect(auth: Record<string, unknown> | undefined, url = this.url): ClientSocket {
    const socket: ClientSocket = io(url, { auth, transports: ['websocket'], reconnection: false, forceNew: true });
    this.sockets.push(socket);
    return socket;
  }

  async client(rooms: string[], options: ClientOptions = {}): Promise<TestClient> {
    const socket = this.connect({ token: this.token(rooms, options.sub) }, options.url);
    const client: TestClient = {
      socket,
      received: [],
      arrivals: [],
      slowConsumer: [],
      serverRestart: [],
      serverRestartAt: [],
      disconnectReason: undefined,
      disconnectedAt: undefined,
      seqs: (roomId) => client.received.filter((e) => e.roomId === roomId).flatMap((e) => e.messages.map((m) => m.seq)),
      held: (roomId) => {
        const out: number[] = [];
        for (const seq of client.seqs(roomId)) if (out.length === 0 || seq > out[out.length - 1]) out.push(seq);
        return out;
      },
    };
    socket.on('messages', (event) => {
      const at = Date.now();
      client.received.push(event);
      for (const m of event.messages) client.arrivals.push({ seq: m.seq, at, sentAt: Date.parse(m.sentAt) });
      if (options.autoAck)
        socket.emit('ack', { roomId: event.roomId, seq: event.messages[event.messages.length - 1].seq });
    });
    socket.on('slow_consumer', (event) => client.slowConsumer.push(event));
    socket.on('server_restart', (event) => {
      client.serverRestart.push(event);
      client.serverRestartAt.push(Date.now());
    });
    socket.on('disconnect', (reason) => {
      client.disconnectReason = reason;
      client.disconnectedAt = Date.now();
    });
    await connected(socket);
    return client;
  }

  subscribe(socket: ClientSocket, request: unknown): Promise<SubscribeAck> {
    // The wire takes anything; tests send bad payloads on purpose.
    return socket.timeout(ACK_WAIT_MS).emitWithAck('subscribe', request as { roomId: string });
  }

  /**
   * A round trip on the socket: Socket.IO keeps order per connection, so every frame the gateway
   * sent before answering this has arrived when it resolves.
   */
  async barrier(socket: ClientSocket): Promise<void> {
    await socket.timeout(ACK_WAIT_MS).emitWithAck('unsubscribe', { roomId: 'barrier-room' });
  }
}

export function room(name: string): string {
  return `${name}-${randomBytes(3).toString('hex')}`;
}

/** Resolves on the socket's connect, rejects with its connect_error. */
export function connected(socket: ClientSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
}

export function connectError(socket: ClientSocket): Promise<string> {
  return new Promise((resolve, reject) => {
    socket.once('connect', () => reject(new Error('connected although it should have been refused')));
    socket.once('connect_error', (error) => resolve(error.message));
  });
}

/** Value of one series on prom-client's default registry (0 if it was never set). */
export async function metricValue(name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = register.getSingleMetric(name);
  if (!metric) throw new Error(`metric ${name} is not registered`);
  const { values } = await metric.get();
  const match = values.find((v) =>
    Object.entries(labels).every(([key, value]) => (v.labels as Record<string, unknown>)[key] === value),
  );
  return match?.value ?? 0;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * A loopback TCP proxy in front of the gateway. `freeze()` stops forwarding in both directions
 * (and stops reading, so the gateway's writes pile up in the kernel): to the gateway the peer
 * looks exactly like a frozen process or a dead network path. `thaw()` resumes.
 */
export class TcpProxy {
  private readonly pairs = new Set<{ client: NetSocket; upstream: NetSocket }>();
  private server!: Server;
  port!: number;
  private frozen = false;

  static async start(targetPort: number): Promise<TcpProxy> {
    const proxy = new TcpProxy();
    await proxy.listen(targetPort);
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private async listen(targetPort: number): Promise<void> {
    this.server = createServer((client) => {
      const upstream = netConnect(targetPort, '127.0.0.1');
      const pair = { client, upstream };
      this.pairs.add(pair);
      if (!this.frozen) this.link(pair);
      const destroy = () => {
        client.destroy();
        upstream.destroy();
        this.pairs.delete(pair);
      };
      client.on('error', destroy);
      upstream.on('error', destroy);
      client.on('close', () => this.pairs.delete(pair));
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  freeze(): void {
    this.frozen = true;
    for (const { client, upstream } of this.pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
  }

  /** Cuts every connection through the proxy now (a network failure); new connections are served. */
  cut(): void {
    for (const { client, upstream } of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
    this.pairs.clear();
  }

  thaw(): void {
    this.frozen = false;
    for (const pair of this.pairs) this.link(pair);
  }

  async close(): Promise<void> {
    for (const { client, upstream } of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
    this.pairs.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private link({ client, upstream }: { client: NetSocket; upstream: NetSocket }): void {
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
