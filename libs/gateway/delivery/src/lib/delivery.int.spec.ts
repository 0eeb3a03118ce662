/**
 * The gateway against the real broker and PostgreSQL: a Nest app with DeliveryModule on an
 * ephemeral port, real socket.io-client sockets, sequenced messages committed to seqcast_messages
 * and then published to a fresh events topic, exactly as the ordering worker does.
 */
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { signToken } from '@seqcast/auth';
import type {
  ClientToServerEvents,
  Message,
  MessagesEvent,
  ServerToClientEvents,
  SubscribeAck,
  UnsubscribeAck,
} from '@seqcast/contracts';
import { createKafka, ensureTopics, type Kafka, RoomProducer } from '@seqcast/kafka';
import { type DataSource, MessageHistoryRepository, openDatabase } from '@seqcast/persistence';
import { partitionForRoom } from '@seqcast/room-partitioner';
import {
  createTestDatabase,
  TEST_JWT_SECRET,
  type TestDatabase,
  testKafkaBrokers,
  uniqueTopics,
  waitFor,
} from '@seqcast/testing';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { io, type Socket } from 'socket.io-client';
import { DeliveryModule } from './delivery.module';
import { EdgeIoAdapter } from './edge-io.adapter';
import { EventsConsumerService } from './events-consumer.service';

type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

const PARTITIONS = 3;
const ACK_TIMEOUT_MS = 10_000;

let db: TestDatabase;
let dataSource: DataSource;
let kafka: Kafka;
let producer: RoomProducer;
let eventsTopic: string;
let groupId: string;
let app: INestApplication;
let url: string;
let epoch: string;
const sockets: ClientSocket[] = [];

/** Per room, the last seq handed out; seqs are sparse like real Kafka offsets shared by rooms. */
const lastSeq = new Map<string, number>();
let nextOffset = 0;

function sequence(roomId: string, count: number): Message[] {
  const out: Message[] = [];
  for (let i = 0; i < count; i++) {
    nextOffset += 1 + (nextOffset % 3);
    const prev = lastSeq.get(roomId);
    out.push({
      roomId,
      seq: nextOffset,
      prevSeq: prev ?? null,
      epoch,
      clientMsgId: `m-${nextOffset}`,
      senderId: 'writer',
      payload: { text: `hello ${nextOffset}`, i },
      sentAt: new Date().toISOString(),
      sequencedAt: new Date().toISOString(),
    });
    lastSeq.set(roomId, nextOffset);
  }
  return out;
}

/** The ordering worker's commit (PostgreSQL first, then publish), reduced to the rows the gateway reads. */
async function commit(messages: Message[]): Promise<void> {
  for (const m of messages) {
    await dataSource.query(
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

async function publish(messages: Message[]): Promise<void> {
  await producer.send(
    eventsTopic,
    messages.map((m) => ({ roomId: m.roomId, value: JSON.stringify(m) })),
  );
}

async function commitAndPublish(roomId: string, count: number): Promise<Message[]> {
  const messages = sequence(roomId, count);
  await commit(messages);
  await publish(messages);
  return messages;
}

function token(rooms: string[], sub = 'reader'): string {
  return signToken({ sub, rooms }, TEST_JWT_SECRET);
}

function connect(auth: Record<string, unknown> | undefined): ClientSocket {
  const socket: ClientSocket = io(url, { auth, transports: ['websocket'], reconnection: false, forceNew: true });
  sockets.push(socket);
  return socket;
}

/** A connected socket recording every `messages` event it receives. */
async function client(
  rooms: string[],
): Promise<{ socket: ClientSocket; received: MessagesEvent[]; seqs(roomId: string): number[] }> {
  const socket = connect({ token: token(rooms) });
  const received: MessagesEvent[] = [];
  socket.on('messages', (event) => received.push(event));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  const seqs = (roomId: string) =>
    received.filter((e) => e.roomId === roomId).flatMap((e) => e.messages.map((m) => m.seq));
  return { socket, received, seqs };
}

function subscribe(socket: ClientSocket, request: unknown): Promise<SubscribeAck> {
  // The wire takes anything; tests send bad payloads on purpose.
  return socket.timeout(ACK_TIMEOUT_MS).emitWithAck('subscribe', request as { roomId: string });
}

function unsubscribe(socket: ClientSocket, roomId: string): Promise<UnsubscribeAck> {
  return socket.timeout(ACK_TIMEOUT_MS).emitWithAck('unsubscribe', { roomId });
}

function connectError(socket: ClientSocket): Promise<string> {
  return new Promise((resolve, reject) => {
    socket.once('connect', () => reject(new Error('connected without a valid token')));
    socket.once('connect_error', (error) => resolve(error.message));
  });
}

function expectChainedFrom(received: MessagesEvent[], roomId: string, after: number | null): void {
  let last = after;
  for (const event of received.filter((e) => e.roomId === roomId)) {
    expect(event.messages.length).toBeGreaterThan(0);
    for (const m of event.messages) {
      expect(m.prevSeq).toBe(last);
      last = m.seq;
    }
  }
}

function room(name: string): string {
  return `${name}-${randomBytes(3).toString('hex')}`;
}

beforeAll(async () => {
  db = await createTestDatabase();
  dataSource = await openDatabase({ url: db.url, runMigrations: true });
  epoch = await new MessageHistoryRepository(dataSource).currentEpoch();

  kafka = createKafka({ brokers: testKafkaBrokers(), clientId: 'gateway-delivery-int' });
  eventsTopic = uniqueTopics('gateway').eventsTopic;
  await ensureTopics(kafka, [{ name: eventsTopic, partitions: PARTITIONS }]);
  producer = new RoomProducer(kafka, { partitions: PARTITIONS });
  await producer.connect();

  groupId = `seqcast-gateway-int-${randomBytes(4).toString('hex')}`;
  const moduleRef = await Test.createTestingModule({
    imports: [
      DeliveryModule.register({
        eventsTopic,
        groupId,
        jwtSecret: TEST_JWT_SECRET,
        kafka: { useFactory: () => kafka },
        dataSource: { useFactory: () => dataSource },
        subscriptions: { historyPageSize: 4 },
      }),
    ],
  }).compile();
  app = moduleRef.createNestApplication({ logger: ['error', 'warn'] });
  app.useWebSocketAdapter(
    new EdgeIoAdapter(app, { pingIntervalMs: 25_000, pingTimeoutMs: 20_000, corsOrigins: ['*'] }),
  );
  app.enableShutdownHooks();
  await app.listen(0, '127.0.0.1');
  url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;

  // The group starts at the latest offset: publish nothing until it has resolved where that is.
  const events = app.get(EventsConsumerService);
  await waitFor(() => events.checkConsuming().then(() => true), { timeoutMs: 30_000, what: 'the events consumer' });
});

afterAll(async () => {
  for (const socket of sockets) socket.disconnect();
  await app?.close();
  await producer?.disconnect();
  const admin = kafka?.admin();
  if (admin) {
    await admin.connect();
    await admin.deleteTopics({ topics: [eventsTopic] }).catch(() => undefined);
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
  if (dataSource?.isInitialized) await dataSource.destroy();
  await db?.drop();
});

describe('handshake', () => {
  it.each([
    ['no token', undefined],
    ['a garbage token', { token: 'nope' }],
    ['a token signed with another secret', { token: signToken({ sub: 'x', rooms: ['*'] }, 'another-secret') }],
  ])('refuses %s with connect_error "unauthorized"', async (_case, auth) => {
    await expect(connectError(connect(auth))).resolves.toBe('unauthorized');
  });
});

describe('subscribe', () => {
  it('answers forbidden for a room the token does not grant, invalid_request for bad payloads', async () => {
    const { socket } = await client(['team-*']);
    await expect(subscribe(socket, { roomId: 'secret-room' })).resolves.toEqual({
      ok: false,
      error: { code: 'forbidden', message: expect.stringContaining('secret-room') },
    });
    await expect(subscribe(socket, 'team-1')).resolves.toMatchObject({ ok: false, error: { code: 'invalid_request' } });
    await expect(subscribe(socket, { roomId: 'team 1' })).resolves.toMatchObject({
      ok: false,
      error: { code: 'invalid_request', message: expect.stringContaining('roomId') },
    });
    // Without an ack callback nothing comes back, and the connection stays usable.
    (socket as unknown as { emit(event: string, payload: unknown): void }).emit('subscribe', { roomId: 'team-1' });
    await expect(subscribe(socket, { roomId: 'team-x' })).resolves.toMatchObject({ ok: true, roomId: 'team-x' });
    expect(socket.connected).toBe(true);
  });

  it('acks the epoch and the head of the room from PostgreSQL', async () => {
    const roomId = room('team-head');
    const history = sequence(roomId, 3);
    await commit(history);
    const { socket } = await client(['team-*']);
    await expect(subscribe(socket, { roomId })).resolves.toEqual({ ok: true, roomId, epoch, headSeq: history[2].seq });

    const empty = room('team-empty');
    await expect(subscribe(socket, { roomId: empty })).resolves.toEqual({
      ok: true,
      roomId: empty,
      epoch,
      headSeq: -1,
    });
  });
});

describe('live delivery', () => {
  it('delivers new messages in order, chained onto the acked head, republished copies once', async () => {
    const roomId = room('team-live');
    const before = sequence(roomId, 2);
    await commit(before);
    const alice = await client(['team-*']);
    const ack = await subscribe(alice.socket, { roomId });
    expect(ack).toMatchObject({ ok: true, headSeq: before[1].seq });

    const sent: Message[] = [];
    for (let i = 0; i < 5; i++) sent.push(...(await commitAndPublish(roomId, 4)));
    // A worker restart republishes what it already published, then carries on.
    await publish(sent.slice(8));
    sent.push(...(await commitAndPublish(roomId, 3)));

    const expected = sent.map((m) => m.seq);
    await waitFor(() => alice.seqs(roomId).length >= expected.length, { what: 'all live messages' });
    expect(alice.seqs(roomId)).toEqual(expected);
    expectChainedFrom(alice.received, roomId, before[1].seq);
    expect(alice.received.find((e) => e.roomId === roomId)?.messages[0]).toEqual(sent[0]);
  });

  it('delivers everything to both subscribers of a room, and stops after unsubscribe', async () => {
    const roomId = room('team-two');
    const alice = await client(['team-*']);
    const bob = await client([roomId]);
    await subscribe(alice.socket, { roomId });
    await subscribe(bob.socket, { roomId });

    const first = await commitAndPublish(roomId, 6);
    const firstSeqs = first.map((m) => m.seq);
    await waitFor(() => alice.seqs(roomId).length >= 6 && bob.seqs(roomId).length >= 6, { what: 'both subscribers' });
    expect(alice.seqs(roomId)).toEqual(firstSeqs);
    expect(bob.seqs(roomId)).toEqual(firstSeqs);
    expectChainedFrom(bob.received, roomId, null);

    await expect(unsubscribe(alice.socket, roomId)).resolves.toEqual({ ok: true, roomId });
    const second = await commitAndPublish(roomId, 3);
    await waitFor(() => bob.seqs(roomId).length >= 9, { what: 'bob to get the messages after alice left' });
    expect(bob.seqs(roomId)).toEqual([...firstSeqs, ...second.map((m) => m.seq)]);
    // Socket.IO keeps order per connection: a round trip on alice's socket now would arrive after
    // any messages the gateway had sent her in the same fan-out as bob's.
    await expect(unsubscribe(alice.socket, 'team-nothing')).resolves.toMatchObject({ ok: true });
    expect(alice.seqs(roomId)).toEqual(firstSeqs);
  });

  it('keeps rooms apart', async () => {
    const a = room('team-a');
    const b = room('team-b');
    const alice = await client(['team-*']);
    await subscribe(alice.socket, { roomId: a });
    await commitAndPublish(b, 2);
    const inA = await commitAndPublish(a, 2);
    await waitFor(() => alice.seqs(a).length >= 2, { what: 'room a' });
    expect(alice.seqs(a)).toEqual(inA.map((m) => m.seq));
    expect(alice.received.some((e) => e.roomId === b)).toBe(false);
  });
});

describe('afterSeq replay', () => {
  it('replays history after afterSeq in order, then continues live without gaps or repeats', async () => {
    const roomId = room('team-replay');
    const history = sequence(roomId, 10);
    await commit(history);
    const alice = await client(['team-*']);
    const ack = await subscribe(alice.socket, { roomId, afterSeq: history[2].seq, epoch });
    expect(ack).toEqual({ ok: true, roomId, epoch, headSeq: history[9].seq });

    const live = await commitAndPublish(roomId, 5);
    const expected = [...history.slice(3), ...live].map((m) => m.seq);
    await waitFor(() => alice.seqs(roomId).length >= expected.length, { what: 'replay and live messages' });
    expect(alice.seqs(roomId)).toEqual(expected);
    expectChainedFrom(alice.received, roomId, history[2].seq);
  });

  it('resets a client whose epoch is stale to the whole history', async () => {
    const roomId = room('team-reset');
    const history = sequence(roomId, 3);
    await commit(history);
    const alice = await client(['team-*']);
    await expect(subscribe(alice.socket, { roomId, afterSeq: 1, epoch: 'e-stale' })).resolves.toMatchObject({
      ok: true,
      reset: true,
    });
    await waitFor(() => alice.seqs(roomId).length >= 3, { what: 'the reset replay' });
    expect(alice.seqs(roomId)).toEqual(history.map((m) => m.seq));
  });

  it('repairs from PostgreSQL a message the events topic never carried', async () => {
    const roomId = room('team-gap');
    const alice = await client(['team-*']);
    await subscribe(alice.socket, { roomId });
    const lost = sequence(roomId, 2);
    await commit(lost); // committed, but the publish "failed"
    const next = await commitAndPublish(roomId, 2);
    const expected = [...lost, ...next].map((m) => m.seq);
    await waitFor(() => alice.seqs(roomId).length >= 4, { what: 'the repaired stream' });
    expect(alice.seqs(roomId)).toEqual(expected);
    expectChainedFrom(alice.received, roomId, null);
  });
});
