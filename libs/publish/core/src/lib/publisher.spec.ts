import { Logger } from '@nestjs/common';
import type { Principal } from '@seqcast/auth';
import { ingestRecordSchema } from '@seqcast/contracts';
import { KafkaUnavailableError, type ProducedRecord, type RoomRecord } from '@seqcast/kafka';
import { ApiError } from '@seqcast/http-api';
import { publishMetrics } from './publish.metrics';
import { buildIngestRecord, type RecordProducer, type StoredSeqReader } from './publish-types';
import { Publisher } from './publisher';

const NOW = new Date('2030-01-02T03:04:05.678Z');
const alice: Principal = {
  userId: 'alice',
  kind: 'token',
  grants: { publish: ['team-1:*', 'lobby'], subscribe: ['team-9:*'], history: ['team-9:*'] },
  expiresAt: new Date(NOW.getTime() + 3600_000),
};

/** Stands in for RoomProducer: assigns partitions and per-partition offsets like a log would. */
class FakeProducer implements RecordProducer {
  sends: { topic: string; records: RoomRecord[] }[] = [];
  connects = 0;
  brokerDown = false;
  private readonly nextOffset = new Map<number, number>();

  async connect(): Promise<void> {
    this.connects++;
    if (this.brokerDown) throw new KafkaUnavailableError('connect: Kafka is unavailable (ECONNREFUSED)');
  }

  async disconnect(): Promise<void> {
    return undefined;
  }

  async send(topic: string, records: RoomRecord[]): Promise<ProducedRecord[]> {
    if (this.brokerDown) throw new KafkaUnavailableError('send: Kafka did not answer within 10000 ms');
    this.sends.push({ topic, records });
    return records.map((r) => {
      const partition = r.roomId.length % 3;
      const offset = this.nextOffset.get(partition) ?? 0;
      this.nextOffset.set(partition, offset + 1);
      return { roomId: r.roomId, partition, offset };
    });
  }
}

/** Stands in for the database: seqs of messages "stored" by the test. */
class FakeSeqReader implements StoredSeqReader {
  stored = new Map<string, number>();
  failing = false;
  async findSeq(key: { roomId: string; senderId: string; clientMsgId: string }): Promise<number | undefined> {
    if (this.failing) throw new Error('connection terminated');
    return this.stored.get(`${key.roomId}/${key.senderId}/${key.clientMsgId}`);
  }
}

function setup(cacheSize?: number): { producer: FakeProducer; service: Publisher; seqs: FakeSeqReader } {
  const producer = new FakeProducer();
  const seqs = new FakeSeqReader();
  const options = { messagesTopic: 'test.messages', idempotencyCacheSize: cacheSize };
  const service = new Publisher(producer, options, () => NOW, seqs);
  return { producer, service, seqs };
}

function decoded(record: RoomRecord): unknown {
  return JSON.parse(String(record.value));
}

describe('buildIngestRecord', () => {
  it('builds a v1 record with the sender from the token and sentAt from the clock', () => {
    const record = buildIngestRecord({ roomId: 'lobby', clientMsgId: 'm-1', payload: { text: 'hi' } }, 'alice', NOW);
    expect(record).toEqual({
      v: 1,
      roomId: 'lobby',
      clientMsgId: 'm-1',
      senderId: 'alice',
      payload: { text: 'hi' },
      sentAt: '2030-01-02T03:04:05.678Z',
    });
    expect(ingestRecordSchema.safeParse(record).success).toBe(true);
  });

  it('keeps null payloads (a valid JSON value, not an absent one)', () => {
    expect(buildIngestRecord({ roomId: 'r', clientMsgId: 'c', payload: null }, 'u', NOW).payload).toBeNull();
  });
});

describe('Publisher', () => {
  it('writes one keyed JSON record to the messages topic and returns where it landed', async () => {
    const { producer, service } = setup();
    await service.start();
    const result = await service.publish(alice, { roomId: 'team-1:general', clientMsgId: 'm-1', payload: [1, 2] });

    expect(producer.sends).toHaveLength(1);
    expect(producer.sends[0].topic).toBe('test.messages');
    expect(producer.sends[0].records).toHaveLength(1);
    expect(producer.sends[0].records[0].roomId).toBe('team-1:general');
    expect(decoded(producer.sends[0].records[0])).toEqual({
      v: 1,
      roomId: 'team-1:general',
      clientMsgId: 'm-1',
      senderId: 'alice',
      payload: [1, 2],
      sentAt: NOW.toISOString(),
    });
    expect(result).toEqual({
      roomId: 'team-1:general',
      clientMsgId: 'm-1',
      partition: 'team-1:general'.length % 3,
      offset: 0,
      duplicate: false,
    });
  });

  it('writes a batch in one send and answers in request order', async () => {
    const { producer, service } = setup();
    const messages = [
      { roomId: 'lobby', clientMsgId: 'a', payload: 1 },
      { roomId: 'team-1:x', clientMsgId: 'b', payload: 2 },
      { roomId: 'lobby', clientMsgId: 'c', payload: 3 },
      { roomId: 'team-1:yy', clientMsgId: 'd', payload: 4 },
    ];
    const { results } = await service.publishBatch(alice, messages);

    expect(producer.sends).toHaveLength(1);
    expect(producer.sends[0].records.map((r) => (decoded(r) as { clientMsgId: string }).clientMsgId)).toEqual([
      'a',
      'b',
      'c',
      'd',
    ]);
    expect(results.map((r) => [r.roomId, r.clientMsgId])).toEqual(messages.map((m) => [m.roomId, m.clientMsgId]));
    // Same room → same partition, later message → later offset.
    expect(results[2].partition).toBe(results[0].partition);
    expect(results[2].offset).toBeGreaterThan(results[0].offset);
  });

  it('refuses the whole batch when any room is not granted, writing nothing', async () => {
    const { producer, service } = setup();
    const attempt = service.publishBatch(alice, [
      { roomId: 'lobby', clientMsgId: 'a', payload: 1 },
      { roomId: 'team-2:secret', clientMsgId: 'b', payload: 2 },
    ]);
    await expect(attempt).rejects.toMatchObject({
      status: 403,
      code: 'forbidden',
      message: expect.stringContaining('team-2:secret'),
    });
    await expect(attempt).rejects.toBeInstanceOf(ApiError);
    expect(producer.sends).toHaveLength(0);
  });

  it('refuses a single publish to a room the token does not grant', async () => {
    const { producer, service } = setup();
    await expect(service.publish(alice, { roomId: 'lobby2', clientMsgId: 'a', payload: 1 })).rejects.toMatchObject({
      status: 403,
    });
    expect(producer.sends).toHaveLength(0);
  });

  it('refuses to publish where the token only grants subscribe and history', async () => {
    const { producer, service } = setup();
    await expect(service.publish(alice, { roomId: 'team-9:x', clientMsgId: 'a', payload: 1 })).rejects.toMatchObject({
      status: 403,
      message: 'credential does not grant publish to room "team-9:x"',
    });
    expect(producer.sends).toHaveLength(0);
  });

  it('starts without a broker and lets KafkaUnavailableError through for the filter to answer 503', async () => {
    const { producer, service } = setup();
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    producer.brokerDown = true;
    await expect(service.start()).resolves.toBeUndefined();
    expect(producer.connects).toBe(1);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('ECONNREFUSED'));
    warn.mockRestore();
    const message = { roomId: 'lobby', clientMsgId: 'a', payload: 1 };
    await expect(service.publish(alice, message)).rejects.toBeInstanceOf(KafkaUnavailableError);
    producer.brokerDown = false;
    await expect(service.publish(alice, message)).resolves.toMatchObject({ offset: 0 });
  });

  it('counts accepted messages and times acknowledged sends only', async () => {
    const { producer, service } = setup();
    const accepted = async () => (await publishMetrics.acceptedMessages.get()).values[0]?.value ?? 0;
    const timed = async () =>
      (await publishMetrics.produceLatency.get()).values.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0;
    const before = { accepted: await accepted(), timed: await timed() };
    await service.publish(alice, { roomId: 'lobby', clientMsgId: 'a', payload: 1 });
    await service.publishBatch(alice, [
      { roomId: 'lobby', clientMsgId: 'b', payload: 2 },
      { roomId: 'team-1:x', clientMsgId: 'c', payload: 3 },
    ]);
    producer.brokerDown = true;
    await expect(service.publish(alice, { roomId: 'lobby', clientMsgId: 'd', payload: 4 })).rejects.toThrow();
    await expect(service.publish(alice, { roomId: 'team-2:x', clientMsgId: 'e', payload: 5 })).rejects.toThrow();
    expect(await accepted()).toBe(before.accepted + 3);
    expect(await timed()).toBe(before.timed + 2);
  });

  it('treats an acknowledgement count that does not match the records as a bug', async () => {
    const { producer, service } = setup();
    producer.send = async () => [];
    await expect(service.publish(alice, { roomId: 'lobby', clientMsgId: 'a', payload: 1 })).rejects.toThrow(
      'producer acknowledged 0 records for 1 sent',
    );
  });

  describe('idempotency per (room, sender, clientMsgId), without a database read per publish', () => {
    const bob: Principal = { ...alice, userId: 'bob' };
    const first = { roomId: 'lobby', clientMsgId: 'c-0001', payload: { text: 'hi', n: 1 } };

    it('answers a retry from the first copy without writing it again, with the seq once stored', async () => {
      const { producer, service, seqs } = setup();
      const original = await service.publish(alice, first);
      const retry = await service.publish(alice, { ...first, payload: { n: 1, text: 'hi' } });
      expect(producer.sends).toHaveLength(1);
      expect(retry).toEqual({ ...original, duplicate: true });
      seqs.stored.set('lobby/alice/c-0001', original.offset);
      await expect(service.publish(alice, first)).resolves.toEqual({ ...original, duplicate: true, seq: original.offset });
      // The seq is a courtesy: without the database the retry is still a 202.
      seqs.failing = true;
      const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
      await expect(service.publish(alice, first)).resolves.toEqual({ ...original, duplicate: true });
      warn.mockRestore();
    });

    it("writes another sender's message with the same clientMsgId", async () => {
      const { producer, service } = setup();
      const mine = await service.publish(alice, first);
      const theirs = await service.publish(bob, { ...first, payload: 'something else' });
      expect(producer.sends).toHaveLength(2);
      expect(theirs).toMatchObject({ duplicate: false, offset: mine.offset + 1 });
    });

    it('refuses a re-used key with a different payload with 409, naming the first copy', async () => {
      const { producer, service } = setup();
      const original = await service.publish(alice, first);
      const attempt = service.publish(alice, { ...first, payload: { text: 'changed' } });
      await expect(attempt).rejects.toBeInstanceOf(ApiError);
      await expect(attempt).rejects.toMatchObject({
        status: 409,
        code: 'idempotency_conflict',
        message: expect.stringContaining(`partition ${original.partition}, offset ${original.offset}`),
      });
      expect(producer.sends).toHaveLength(1);
    });

    it('refuses a whole batch holding a conflict, writing nothing, and answers in-batch retries once', async () => {
      const { producer, service } = setup();
      await expect(
        service.publishBatch(alice, [
          { roomId: 'lobby', clientMsgId: 'x', payload: 1 },
          { roomId: 'lobby', clientMsgId: 'x', payload: 2 },
        ]),
      ).rejects.toMatchObject({ status: 409, message: expect.stringContaining('item 0 of this batch') });
      expect(producer.sends).toHaveLength(0);
      await service.publish(alice, first);
      await expect(
        service.publishBatch(alice, [
          { roomId: 'lobby', clientMsgId: 'new', payload: 1 },
          { ...first, payload: 'changed' },
        ]),
      ).rejects.toMatchObject({ status: 409 });
      expect(producer.sends).toHaveLength(1);

      const { results } = await service.publishBatch(alice, [
        { roomId: 'lobby', clientMsgId: 'y', payload: 1 },
        first,
        { roomId: 'lobby', clientMsgId: 'y', payload: 1 },
      ]);
      expect(producer.sends).toHaveLength(2);
      expect(producer.sends[1].records).toHaveLength(1);
      expect(results.map((r) => [r.clientMsgId, r.duplicate])).toEqual([
        ['y', false],
        ['c-0001', true],
        ['y', true],
      ]);
      expect(results[2].offset).toBe(results[0].offset);
    });

    it('lets a concurrent retry wait for the first write, and forgets a write Kafka refused', async () => {
      const { producer, service } = setup();
      let release: () => void = () => undefined;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const send = producer.send.bind(producer);
      producer.send = async (topic, records) => {
        await gate;
        return send(topic, records);
      };
      const a = service.publish(alice, first);
      const b = service.publish(alice, first);
      await expect(service.publish(alice, { ...first, payload: 0 })).rejects.toMatchObject({
        status: 409,
        message: expect.stringContaining('being accepted'),
      });
      release();
      const [ra, rb] = await Promise.all([a, b]);
      expect(producer.sends).toHaveLength(1);
      expect(rb).toEqual({ ...ra, duplicate: true });

      producer.send = send;
      producer.brokerDown = true;
      const lost = { roomId: 'lobby', clientMsgId: 'lost', payload: 1 };
      await expect(service.publish(alice, lost)).rejects.toBeInstanceOf(KafkaUnavailableError);
      producer.brokerDown = false;
      await expect(service.publish(alice, { ...lost, payload: 2 })).resolves.toMatchObject({ duplicate: false });
    });

    it('forgets the least recently used keys beyond its capacity (the worker still applies the rule)', async () => {
      const { producer, service } = setup(2);
      for (const id of ['a', 'b', 'c']) await service.publish(alice, { roomId: 'lobby', clientMsgId: id, payload: id });
      await expect(service.publish(alice, { roomId: 'lobby', clientMsgId: 'c', payload: 'c' })).resolves.toMatchObject({
        duplicate: true,
      });
      await expect(service.publish(alice, { roomId: 'lobby', clientMsgId: 'a', payload: 'a' })).resolves.toMatchObject({
        duplicate: false,
      });
      expect(producer.sends).toHaveLength(4);
    });
  });
});
