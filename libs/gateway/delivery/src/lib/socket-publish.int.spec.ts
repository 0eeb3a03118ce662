/**
 * `publish` over Socket.IO on a real gateway (real broker, real PostgreSQL): what an accepted
 * publish answers and writes to the messages topic, and that it reaches another socket in order
 * once sequenced; retries, conflicts, the capability, validation, size and the rate limit answered
 * with the HTTP API's codes; and publishes during a drain answered `unavailable`. The write path's
 * rules are @seqcast/publish-core's unit tests; the same path over HTTP is ingest-api's.
 */
import { signToken } from '@seqcast/auth';
import type { IngestRecord, Message, PublishAck } from '@seqcast/contracts';
import type { Consumer } from '@seqcast/kafka';
import { TEST_JWT_SECRET, waitFor } from '@seqcast/testing';
import { randomBytes } from 'node:crypto';
import { type ClientSocket, GatewayHarness, room } from '../testing';

// Per principal: 500 points in a 500 s window (windowFor(1)), so only the rate-limit test, with
// its own principal, ever spends a budget out.
const RATE_PER_SEC = 1;

let gw: GatewayHarness;
let consumer: Consumer;
/** Every record written to the messages topic, in arrival order. */
const written: { partition: number; offset: number; record: IngestRecord }[] = [];

beforeAll(async () => {
  gw = await GatewayHarness.start({ publish: { rateLimit: { messagesPerSecond: RATE_PER_SEC }, maxPayloadBytes: 2_048 } });
  consumer = gw.kafka.consumer({ groupId: `socket-publish-int-${randomBytes(4).toString('hex')}` });
  await consumer.connect();
  await consumer.subscribe({ topic: gw.messagesTopic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      written.push({ partition, offset: Number(message.offset), record: JSON.parse(String(message.value)) });
    },
  });
});

afterAll(async () => {
  await consumer?.disconnect();
  await gw?.stop();
});

function publish(socket: ClientSocket, request: unknown): Promise<PublishAck> {
  // The wire takes anything; tests send bad payloads on purpose.
  return socket.timeout(10_000).emitWithAck('publish', request as { roomId: string; clientMsgId: string; payload: unknown });
}

async function connectWith(claims: Parameters<typeof signToken>[0]): Promise<ClientSocket> {
  const socket = gw.connect({ token: signToken(claims, TEST_JWT_SECRET) });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  return socket;
}

/** The ordering worker's part, for the records of one room: seq = offset, chained by prevSeq. */
function sequenced(roomId: string, epoch: string): Message[] {
  let prevSeq: number | null = null;
  return written
    .filter((w) => w.record.roomId === roomId)
    .sort((a, b) => a.offset - b.offset)
    .map(({ offset, record: { v: _version, ...record } }) => {
      const message: Message = { ...record, seq: offset, prevSeq, epoch, sequencedAt: new Date().toISOString() };
      prevSeq = offset;
      return message;
    });
}

describe('publish over Socket.IO', () => {
  it('answers like the HTTP 202, writes the record with the token sender, and another socket receives it in order', async () => {
    const roomId = room('chat-socket-publish');
    const writer = await gw.client([roomId], { sub: 'alice' });
    const reader = await gw.client([roomId], { sub: 'bob', autoAck: true });
    expect(await gw.subscribe(reader.socket, { roomId })).toMatchObject({ ok: true });

    const acks: PublishAck[] = [];
    for (let i = 0; i < 5; i++) {
      acks.push(await publish(writer.socket, { roomId, clientMsgId: `c-${i}`, payload: { text: `hi ${i}` } }));
    }
    const results = acks.map((ack) => {
      if (!ack.ok) throw new Error(`publish refused: ${ack.error.code} ${ack.error.message}`);
      return ack.result;
    });
    expect(results.map((r) => [r.roomId, r.clientMsgId, r.duplicate])).toEqual(
      [0, 1, 2, 3, 4].map((i) => [roomId, `c-${i}`, false]),
    );
    expect(new Set(results.map((r) => r.partition)).size).toBe(1);
    const offsets = results.map((r) => r.offset);
    expect([...offsets].sort((a, b) => a - b)).toEqual(offsets);

    await waitFor(() => written.filter((w) => w.record.roomId === roomId).length === 5, { what: 'the five records' });
    const records = written.filter((w) => w.record.roomId === roomId);
    expect(records.map((w) => [w.partition, w.offset, w.record.senderId, w.record.clientMsgId, w.record.payload])).toEqual(
      results.map((r, i) => [r.partition, r.offset, 'alice', `c-${i}`, { text: `hi ${i}` }]),
    );

    const messages = sequenced(roomId, gw.epoch);
    await gw.commit(messages);
    await gw.publish(messages);
    await waitFor(() => reader.held(roomId).length === 5, { what: 'the reader receiving all five' });
    expect(reader.held(roomId)).toEqual(offsets);
    expect(reader.received.flatMap((e) => e.messages.map((m) => m.payload))).toEqual(
      [0, 1, 2, 3, 4].map((i) => ({ text: `hi ${i}` })),
    );
  });

  it('answers a retry from the first copy (duplicate, same partition and offset) and refuses a re-used clientMsgId', async () => {
    const roomId = room('chat-socket-retry');
    const writer = await gw.client([roomId], { sub: 'carol' });
    const first = await publish(writer.socket, { roomId, clientMsgId: 'once', payload: 'x' });
    const retry = await publish(writer.socket, { roomId, clientMsgId: 'once', payload: 'x' });
    expect(first).toMatchObject({ ok: true, result: { duplicate: false } });
    if (!first.ok) return;
    expect(retry).toEqual({
      ok: true,
      result: { ...first.result, duplicate: true },
    });
    const conflict = await publish(writer.socket, { roomId, clientMsgId: 'once', payload: 'y' });
    expect(conflict).toMatchObject({ ok: false, error: { code: 'idempotency_conflict' } });
  });

  it('refuses a token without the publish capability, bad bodies and oversized requests', async () => {
    const roomId = room('chat-socket-checks');
    const readOnly = await connectWith({ sub: 'dave', subscribe: [roomId] });
    expect(await publish(readOnly, { roomId, clientMsgId: 'a', payload: 1 })).toMatchObject({
      ok: false,
      error: { code: 'forbidden', message: `credential does not grant publish to room "${roomId}"` },
    });

    const writer = await gw.client([roomId], { sub: 'erin' });
    for (const bad of [{ roomId, payload: 1 }, { roomId: 'no spaces', clientMsgId: 'a', payload: 1 }, { roomId, clientMsgId: 'a' }, { roomId, clientMsgId: 'a', payload: 1, extra: true }, 'text']) {
      expect(await publish(writer.socket, bad)).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
    }
    expect(await publish(writer.socket, { roomId, clientMsgId: 'big', payload: 'x'.repeat(4_096) })).toMatchObject({
      ok: false,
      error: { code: 'payload_too_large', message: 'publish request exceeds the limit of 2048 bytes' },
    });
  });

  it('applies the per-principal rate limit, with the wait in retryAfterMs', async () => {
    const roomId = room('chat-socket-rate');
    const writer = await gw.client([roomId], { sub: 'frank' });
    // Like HTTP, the limit is spent before validation: refused bodies spend the budget without a Kafka write.
    await Promise.all(Array.from({ length: 500 }, () => publish(writer.socket, { roomId })));
    const limited = await publish(writer.socket, { roomId, clientMsgId: 'late', payload: 1 });
    expect(limited).toMatchObject({ ok: false, error: { code: 'rate_limited' } });
    if (limited.ok) return;
    expect(limited.error.retryAfterMs).toBeGreaterThanOrEqual(1_000);
    // Per principal: another one still publishes.
    const other = await gw.client([roomId], { sub: 'grace' });
    expect(await publish(other.socket, { roomId, clientMsgId: 'ok', payload: 1 })).toMatchObject({ ok: true });
  });

  // Last: the drain ends this gateway.
  it('answers publishes during a drain unavailable, with retryAfterMs', async () => {
    const roomId = room('chat-socket-drain');
    const writer = await gw.client([roomId], { sub: 'heidi' });
    const restart = new Promise((resolve) => writer.socket.once('server_restart', resolve));
    void gw.drain.drain();
    await restart;
    const ack = await publish(writer.socket, { roomId, clientMsgId: 'during-drain', payload: 1 });
    expect(ack).toMatchObject({ ok: false, error: { code: 'unavailable', retryAfterMs: 5_000 } });
  });
});
