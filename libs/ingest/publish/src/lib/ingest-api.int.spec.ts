/**
 * The ingest HTTP API end to end in one process: the real module and HTTP setup on an ephemeral
 * port, driven with fetch, writing to the real broker (unique topic) and reading a fresh database.
 */
import type { AddressInfo } from 'node:net';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { signToken } from '@seqcast/auth';
import { payloadFingerprint, publishResultSchema } from '@seqcast/contracts';
import { HistoryQueryModule } from '@seqcast/history-query';
import { HttpAuthModule } from '@seqcast/http-api';
import { type Admin, type Consumer, createKafka, ensureTopics, fetchLogEndOffsets, type Kafka } from '@seqcast/kafka';
import { ApiKeyRepository, type DataSource, MessageHistoryRepository, openDatabase } from '@seqcast/persistence';
import { partitionForRoom } from '@seqcast/room-partitioner';
import {
  createTestDatabase,
  TEST_JWT_SECRET,
  type TestDatabase,
  startTcpProxy,
  testKafkaBrokers,
  uniqueTopics,
  waitFor,
} from '@seqcast/testing';
import { Kafka as KafkaClient, logLevel } from 'kafkajs';
import { configureIngestHttp, ingestHttpAdapter } from './configure-ingest-http';
import { IngestPublishModule } from './ingest-publish.module';
import { callApi } from '../testing';

const PARTITIONS = 3;
const MAX_BODY_BYTES = 4096;

interface RunningApi {
  baseUrl: string;
  close(): Promise<void>;
}

@Module({})
class IngestApiUnderTest {}

async function startApi(options: { kafka: Kafka; dataSource: DataSource; messagesTopic: string }): Promise<RunningApi> {
  const authentication = HttpAuthModule.register({
    jwtSecret: TEST_JWT_SECRET,
    apiKeys: { useFactory: () => new ApiKeyRepository(options.dataSource) },
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    {
      // Publishing and the history endpoint, as apps/ingest-api mounts them.
      module: IngestApiUnderTest,
      imports: [
        IngestPublishModule.register({
          messagesTopic: options.messagesTopic,
          partitions: PARTITIONS,
          authentication,
          kafka: { useFactory: () => options.kafka },
          dataSource: { useFactory: () => options.dataSource },
        }),
        HistoryQueryModule.register({ authentication, dataSource: { useFactory: () => options.dataSource } }),
      ],
    },
    ingestHttpAdapter(),
    { bodyParser: false, logger: false, abortOnError: false },
  );
  configureIngestHttp(app, { maxBodyBytes: MAX_BODY_BYTES });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { baseUrl: `http://127.0.0.1:${port}`, close: () => app.close() };
}

function envelope(code: string, message: string | RegExp = /.+/): unknown {
  return {
    error: {
      code,
      message: typeof message === 'string' ? expect.stringContaining(message) : expect.stringMatching(message),
    },
  };
}

describe('ingest HTTP API against real Kafka and PostgreSQL', () => {
  const { messagesTopic } = uniqueTopics('ingest');
  let database: TestDatabase;
  let dataSource: DataSource;
  let kafka: Kafka;
  let admin: Admin;
  let consumer: Consumer;
  let api: RunningApi;
  /** Every record read back from the topic, by `partition:offset`. */
  const consumed = new Map<string, { key: string | null; value: string | null }>();

  beforeAll(async () => {
    database = await createTestDatabase();
    dataSource = await openDatabase({ url: database.url, runMigrations: true });
    kafka = createKafka({ brokers: testKafkaBrokers(), clientId: 'ingest-publish-int' });
    await ensureTopics(kafka, [{ name: messagesTopic, partitions: PARTITIONS }]);
    admin = kafka.admin();
    await admin.connect();
    consumer = kafka.consumer({ groupId: `${messagesTopic}.reader` });
    await consumer.connect();
    await consumer.subscribe({ topic: messagesTopic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        consumed.set(`${partition}:${message.offset}`, {
          key: message.key?.toString() ?? null,
          value: message.value?.toString() ?? null,
        });
      },
    });
    api = await startApi({ kafka, dataSource, messagesTopic });
  });

  afterAll(async () => {
    await api?.close();
    await consumer?.disconnect();
    await admin?.deleteGroups([`${messagesTopic}.reader`]).catch(() => undefined);
    await admin?.deleteTopics({ topics: [messagesTopic] }).catch(() => undefined);
    await admin?.disconnect();
    await dataSource?.destroy();
    await database?.drop();
  });

  function recordAt(partition: number, offset: number, what: string) {
    return waitFor(() => consumed.get(`${partition}:${offset}`), { timeoutMs: 30_000, what });
  }

  describe('POST /v1/rooms/:roomId/messages', () => {
    it('answers 202 once the record is in Kafka at the partition and offset it reports', async () => {
      const before = Date.now();
      const reply = await callApi(api.baseUrl, 'POST', '/v1/rooms/team-1:general/messages', {
        json: { clientMsgId: 'm-1', payload: { text: 'hello', n: [1, null] } },
      });
      expect(reply.status).toBe(202);
      expect(reply.body).toEqual({
        roomId: 'team-1:general',
        clientMsgId: 'm-1',
        partition: partitionForRoom('team-1:general', PARTITIONS),
        offset: expect.any(Number),
        duplicate: false,
      });
      const { partition, offset } = reply.body as { partition: number; offset: number };

      const record = await recordAt(partition, offset, 'the published record');
      expect(record.key).toBe('team-1:general');
      const value = JSON.parse(record.value ?? 'null');
      expect(value).toEqual({
        v: 1,
        roomId: 'team-1:general',
        clientMsgId: 'm-1',
        senderId: 'alice',
        payload: { text: 'hello', n: [1, null] },
        sentAt: expect.any(String),
      });
      expect(Date.parse(value.sentAt)).toBeGreaterThanOrEqual(before - 1000);
      expect(Date.parse(value.sentAt)).toBeLessThanOrEqual(Date.now());
    });

    it('scopes idempotency to the sender: retries answered from the first copy, re-used keys refused with 409', async () => {
      const room = 'team-1:idem';
      const path = `/v1/rooms/${room}/messages`;
      const first = await callApi(api.baseUrl, 'POST', path, {
        json: { clientMsgId: 'c-0001', payload: { a: 1, b: 2 } },
      });
      expect(first.status).toBe(202);
      const original = publishResultSchema.parse(first.body);
      expect(original.duplicate).toBe(false);

      // bob numbers his messages from 1 too: his c-0001 is his own message.
      const bobToken = signToken({ sub: 'bob', rooms: ['team-1:*'] }, TEST_JWT_SECRET);
      const bob = await callApi(api.baseUrl, 'POST', path, {
        token: bobToken,
        json: { clientMsgId: 'c-0001', payload: { a: 1, b: 2 } },
      });
      expect(bob.status).toBe(202);
      expect(publishResultSchema.parse(bob.body)).toMatchObject({ duplicate: false, offset: original.offset + 1 });
      await recordAt(original.partition, original.offset + 1, "bob's c-0001");

      const logEnd = await fetchLogEndOffsets(admin, messagesTopic);
      // alice's retry (keys in another order): nothing written, the first copy's coordinates.
      const retry = await callApi(api.baseUrl, 'POST', path, {
        json: { clientMsgId: 'c-0001', payload: { b: 2, a: 1 } },
      });
      expect(retry.status).toBe(202);
      expect(retry.body).toEqual({ ...original, duplicate: true });
      // Once the worker has stored it (simulated: this suite runs no worker), a retry also says its seq.
      await dataSource.query(
        `INSERT INTO seqcast_messages (epoch, room_id, seq, prev_seq, partition, client_msg_id, sender_id, payload,
                                       payload_fingerprint, sent_at, sequenced_at)
         VALUES ((SELECT value FROM seqcast_meta WHERE key = 'epoch'), $1, $2, NULL, $3, 'c-0001', 'alice', '{"a":1,"b":2}',
                 $4, now(), now())`,
        [room, original.offset, original.partition, payloadFingerprint({ a: 1, b: 2 })],
      );
      const stored = await callApi(api.baseUrl, 'POST', path, {
        json: { clientMsgId: 'c-0001', payload: { a: 1, b: 2 } },
      });
      expect(stored.body).toEqual({ ...original, duplicate: true, seq: original.offset });

      const conflict = await callApi(api.baseUrl, 'POST', path, { json: { clientMsgId: 'c-0001', payload: { a: 2 } } });
      expect(conflict.status).toBe(409);
      expect(conflict.body).toEqual(
        envelope('idempotency_conflict', 'clientMsgId "c-0001" was already used by this sender'),
      );
      const batch = await callApi(api.baseUrl, 'POST', '/v1/messages/batch', {
        json: {
          messages: [
            { roomId: room, clientMsgId: 'c-0002', payload: 1 },
            { roomId: room, clientMsgId: 'c-0001', payload: 'edited' },
          ],
        },
      });
      expect(batch.status).toBe(409);
      expect(await fetchLogEndOffsets(admin, messagesTopic)).toEqual(logEnd);
    });

    it('accepts a null payload', async () => {
      const reply = await callApi(api.baseUrl, 'POST', '/v1/rooms/lobby/messages', {
        json: { clientMsgId: 'n', payload: null },
      });
      expect(reply.status).toBe(202);
      const { partition, offset } = reply.body as { partition: number; offset: number };
      expect(
        JSON.parse((await recordAt(partition, offset, 'the null-payload record')).value ?? '{}').payload,
      ).toBeNull();
    });
  });

  describe('POST /v1/messages/batch', () => {
    it('writes every message and answers in request order', async () => {
      const messages = [
        { roomId: 'team-1:a', clientMsgId: 'b-1', payload: 1 },
        { roomId: 'team-1:b', clientMsgId: 'b-2', payload: 2 },
        { roomId: 'team-1:a', clientMsgId: 'b-3', payload: 3 },
        { roomId: 'lobby', clientMsgId: 'b-4', payload: 4 },
        { roomId: 'team-1:c', clientMsgId: 'b-5', payload: 5 },
        { roomId: 'team-1:a', clientMsgId: 'b-6', payload: 6 },
      ];
      const reply = await callApi(api.baseUrl, 'POST', '/v1/messages/batch', { json: { messages } });
      expect(reply.status).toBe(202);
      const { results } = reply.body as {
        results: { roomId: string; clientMsgId: string; partition: number; offset: number }[];
      };
      expect(results.map((r) => [r.roomId, r.clientMsgId])).toEqual(messages.map((m) => [m.roomId, m.clientMsgId]));

      for (const [i, result] of results.entries()) {
        expect(result.partition).toBe(partitionForRoom(result.roomId, PARTITIONS));
        const record = await recordAt(result.partition, result.offset, `batch record ${i}`);
        expect(record.key).toBe(messages[i].roomId);
        expect(JSON.parse(record.value ?? '{}')).toMatchObject({ ...messages[i], senderId: 'alice', v: 1 });
      }
      // One room's messages keep request order in its partition.
      const roomA = results.filter((r) => r.roomId === 'team-1:a').map((r) => r.offset);
      expect(roomA).toEqual([...roomA].sort((x, y) => x - y));
      expect(new Set(roomA).size).toBe(3);
    });

    it('refuses the whole batch with 403 when one room is not granted, writing nothing', async () => {
      const before = await fetchLogEndOffsets(admin, messagesTopic);
      const reply = await callApi(api.baseUrl, 'POST', '/v1/messages/batch', {
        json: {
          messages: [
            { roomId: 'team-1:a', clientMsgId: 'x-1', payload: 1 },
            { roomId: 'team-2:private', clientMsgId: 'x-2', payload: 2 },
          ],
        },
      });
      expect(reply.status).toBe(403);
      expect(reply.body).toEqual(envelope('forbidden', 'team-2:private'));
      expect(await fetchLogEndOffsets(admin, messagesTopic)).toEqual(before);
    });
  });

  describe('errors are always { error: { code, message } }', () => {
    it.each([
      ['invalid JSON', '/v1/rooms/lobby/messages', { rawBody: '{"clientMsgId": "a", ' }, /not valid JSON/],
      [
        'an unknown field',
        '/v1/rooms/lobby/messages',
        { json: { clientMsgId: 'a', payload: 1, extra: true } },
        'extra',
      ],
      ['a missing payload', '/v1/rooms/lobby/messages', { json: { clientMsgId: 'a' } }, 'payload: is required'],
      [
        'a bad clientMsgId',
        '/v1/rooms/lobby/messages',
        { json: { clientMsgId: 'has space', payload: 1 } },
        'clientMsgId: ',
      ],
      [
        'a bad roomId in the path',
        '/v1/rooms/bad%20room/messages',
        { json: { clientMsgId: 'a', payload: 1 } },
        'roomId: ',
      ],
      [
        'a body that is not JSON',
        '/v1/rooms/lobby/messages',
        { rawBody: 'hi', contentType: 'text/plain' },
        'Content-Type: application/json',
      ],
      ['a JSON array body', '/v1/rooms/lobby/messages', { rawBody: '[1]' }, /object/i],
      ['an empty batch', '/v1/messages/batch', { json: { messages: [] } }, 'must hold 1-500 messages'],
      [
        'a batch with one bad item',
        '/v1/messages/batch',
        {
          json: {
            messages: [
              { roomId: 'lobby', clientMsgId: 'a', payload: 1 },
              { roomId: 'no spaces', clientMsgId: 'b', payload: 1 },
            ],
          },
        },
        'messages.1.roomId',
      ],
    ])('400 invalid_request for %s', async (_what, path, request, message) => {
      const reply = await callApi(api.baseUrl, 'POST', path, request);
      expect(reply.status).toBe(400);
      expect(reply.body).toEqual(envelope('invalid_request', message));
    });

    it('400 names the bad history query parameter', async () => {
      const reply = await callApi(api.baseUrl, 'GET', '/v1/rooms/lobby/messages?limit=5000');
      expect(reply.status).toBe(400);
      expect(reply.body).toEqual(envelope('invalid_request', 'limit'));
    });

    it.each([
      ['no token', null],
      ['a forged token', signToken({ sub: 'mallory', rooms: ['*'] }, 'not-the-secret')],
      ['an expired token', signToken({ sub: 'alice', rooms: ['*'], expiresInSeconds: -60 }, TEST_JWT_SECRET)],
      ['garbage', 'not-a-jwt'],
    ])('401 unauthorized for %s', async (_what, token) => {
      for (const [method, path] of [
        ['POST', '/v1/rooms/lobby/messages'],
        ['POST', '/v1/messages/batch'],
        ['GET', '/v1/rooms/lobby/messages'],
      ] as const) {
        const reply = await callApi(api.baseUrl, method, path, {
          token,
          json: method === 'POST' ? { clientMsgId: 'a', payload: 1 } : undefined,
        });
        expect({ path, status: reply.status }).toEqual({ path, status: 401 });
        expect(reply.body).toEqual(envelope('unauthorized'));
      }
    });

    it('403 forbidden for a room the token does not grant', async () => {
      const reply = await callApi(api.baseUrl, 'POST', '/v1/rooms/team-2:x/messages', {
        json: { clientMsgId: 'a', payload: 1 },
      });
      expect(reply.status).toBe(403);
      expect(reply.body).toEqual(envelope('forbidden', 'team-2:x'));
    });

    it('413 payload_too_large above INGEST_MAX_BODY_BYTES', async () => {
      const reply = await callApi(api.baseUrl, 'POST', '/v1/rooms/lobby/messages', {
        json: { clientMsgId: 'big', payload: 'x'.repeat(MAX_BODY_BYTES) },
      });
      expect(reply.status).toBe(413);
      expect(reply.body).toEqual(envelope('payload_too_large', String(MAX_BODY_BYTES)));
    });

    it('404 not_found for unknown routes and methods', async () => {
      for (const [method, path] of [
        ['GET', '/v1/nope'],
        ['GET', '/v1/messages/batch'],
        ['POST', '/'],
      ] as const) {
        const reply = await callApi(api.baseUrl, method, path);
        expect({ path, status: reply.status }).toEqual({ path, status: 404 });
        expect(reply.body).toEqual(envelope('not_found'));
      }
    });
  });

  describe('GET /v1/rooms/:roomId/messages', () => {
    const room = 'team-1:history';
    let epoch: string;

    beforeAll(async () => {
      epoch = await new MessageHistoryRepository(dataSource).currentEpoch();
      const insert = (rowEpoch: string, roomId: string, seq: number, prevSeq: number | null) =>
        dataSource.query(
          `INSERT INTO seqcast_messages
             (epoch, room_id, seq, prev_seq, partition, client_msg_id, sender_id, payload, sent_at, sequenced_at)
           VALUES ($1, $2, $3, $4, $5, $6, 'alice', $7, '2030-01-01T00:00:00Z', '2030-01-01T00:00:01Z')`,
          [rowEpoch, roomId, seq, prevSeq, partitionForRoom(roomId, PARTITIONS), `c-${seq}`, JSON.stringify({ seq })],
        );
      await insert(epoch, room, 10, null);
      await insert(epoch, room, 11, 10);
      await insert(epoch, room, 15, 11);
      await insert(epoch, 'team-1:other', 12, null);
      await insert('e-retired', room, 99, null);
    });

    it('pages through the room in ascending seq, current epoch only', async () => {
      const all = await callApi(api.baseUrl, 'GET', `/v1/rooms/${room}/messages`);
      expect(all.status).toBe(200);
      expect(all.body).toMatchObject({ roomId: room, epoch, headSeq: 15 });
      const messages = (all.body as { messages: { seq: number; prevSeq: number | null }[] }).messages;
      expect(messages.map((m) => [m.seq, m.prevSeq])).toEqual([
        [10, null],
        [11, 10],
        [15, 11],
      ]);
      expect(messages[0]).toEqual({
        roomId: room,
        seq: 10,
        prevSeq: null,
        epoch,
        clientMsgId: 'c-10',
        senderId: 'alice',
        payload: { seq: 10 },
        sentAt: '2030-01-01T00:00:00.000Z',
        sequencedAt: '2030-01-01T00:00:01.000Z',
      });

      const page = await callApi(api.baseUrl, 'GET', `/v1/rooms/${room}/messages?afterSeq=10&limit=1`);
      expect(page.status).toBe(200);
      expect(page.body).toMatchObject({ roomId: room, epoch, headSeq: 15, messages: [{ seq: 11 }] });
      expect((page.body as { messages: unknown[] }).messages).toHaveLength(1);
    });

    it('pages backward from the newest in ascending pages with a cursor, current epoch only', async () => {
      const seqsOf = (body: unknown) => (body as { messages: { seq: number }[] }).messages.map((m) => m.seq);
      const latest = await callApi(api.baseUrl, 'GET', `/v1/rooms/${room}/messages?direction=backward&limit=2`);
      expect(latest.status).toBe(200);
      expect(latest.body).toMatchObject({ roomId: room, epoch, headSeq: 15, hasMore: true, nextBeforeSeq: 11 });
      expect(seqsOf(latest.body)).toEqual([11, 15]);
      const older = await callApi(api.baseUrl, 'GET', `/v1/rooms/${room}/messages?beforeSeq=11&limit=2`);
      expect(older.status).toBe(200);
      expect(seqsOf(older.body)).toEqual([10]);
      expect(older.body).toMatchObject({ hasMore: false });
      expect(older.body).not.toHaveProperty('nextBeforeSeq');
    });

    it.each([
      ['afterSeq=3&beforeSeq=9', 'beforeSeq: beforeSeq cannot be combined with afterSeq'],
      ['direction=backward&afterSeq=3', 'afterSeq: afterSeq is forward only'],
      ['direction=forward&beforeSeq=9', 'beforeSeq: beforeSeq is backward only'],
      ['direction=up', 'direction:'],
      ['beforeSeq=-1', 'beforeSeq: beforeSeq must be >= 0'],
    ])('400 names the parameter of a bad history query %s', async (query, message) => {
      const reply = await callApi(api.baseUrl, 'GET', `/v1/rooms/${room}/messages?${query}`);
      expect(reply.status).toBe(400);
      expect(reply.body).toEqual(envelope('invalid_request', message));
    });

    it('answers an empty room with headSeq -1', async () => {
      const reply = await callApi(api.baseUrl, 'GET', '/v1/rooms/team-1:empty/messages');
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual({
        roomId: 'team-1:empty',
        epoch,
        headSeq: -1,
        messages: [],
        hasMore: false,
        nextAfterSeq: -1,
      });
    });

    it('403 for a room the token does not grant', async () => {
      const reply = await callApi(api.baseUrl, 'GET', '/v1/rooms/team-2:history/messages');
      expect(reply.status).toBe(403);
      expect(reply.body).toEqual(envelope('forbidden', 'team-2:history'));
    });
  });

  describe('when a dependency is down', () => {
    it('answers 503 with Retry-After when the broker cannot take the write', async () => {
      // Short timeouts so the refused connection is reported in well under a second per attempt.
      const deadKafka = new KafkaClient({
        clientId: 'ingest-publish-int-dead',
        brokers: ['127.0.0.1:1'],
        connectionTimeout: 300,
        retry: { retries: 1, initialRetryTime: 50, maxRetryTime: 100 },
        logLevel: logLevel.NOTHING,
      });
      const deadApi = await startApi({ kafka: deadKafka, dataSource, messagesTopic });
      try {
        for (const [path, json] of [
          ['/v1/rooms/lobby/messages', { clientMsgId: 'a', payload: 1 }],
          ['/v1/messages/batch', { messages: [{ roomId: 'lobby', clientMsgId: 'a', payload: 1 }] }],
        ] as const) {
          const reply = await callApi(deadApi.baseUrl, 'POST', path, { json });
          expect({ path, status: reply.status }).toEqual({ path, status: 503 });
          expect(reply.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
          expect(reply.body).toEqual(envelope('unavailable'));
        }
      } finally {
        await deadApi.close();
      }
    });

    it('answers 503 with Retry-After when the database is unreachable for history reads', async () => {
      const databaseUrl = new URL(database.url);
      const proxy = await startTcpProxy({ host: databaseUrl.hostname, port: Number(databaseUrl.port || 5432) });
      databaseUrl.port = String(proxy.port);
      const flakyDataSource = await openDatabase({ url: databaseUrl.toString(), runMigrations: false });
      const flakyApi = await startApi({ kafka, dataSource: flakyDataSource, messagesTopic });
      try {
        const healthy = await callApi(flakyApi.baseUrl, 'GET', '/v1/rooms/team-1:history/messages');
        expect(healthy.status).toBe(200);

        await proxy.cut();
        for (let attempt = 0; attempt < 2; attempt++) {
          // First attempt meets pooled connections that were cut, the second a refused new connection.
          const reply = await callApi(flakyApi.baseUrl, 'GET', '/v1/rooms/team-1:history/messages');
          expect({ attempt, status: reply.status }).toEqual({ attempt, status: 503 });
          expect(reply.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
          expect(reply.body).toEqual(envelope('unavailable'));
        }
      } finally {
        await flakyApi.close();
        await flakyDataSource.destroy();
      }
    });
  });
});
