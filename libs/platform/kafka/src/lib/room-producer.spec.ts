import { waitFor } from '@seqcast/testing';
import type { Kafka } from 'kafkajs';
import { KafkaUnavailableError } from './kafka-errors';
import { assignOffsets, RoomProducer } from './room-producer';

const planned = (topic: string, partition: number, roomId: string) => ({ topic, partition, roomId, value: 'v' });

describe('assignOffsets', () => {
  it('numbers records per topic-partition from the base offset, in request order', () => {
    const records = [
      planned('t', 0, 'a'),
      planned('t', 1, 'b'),
      planned('t', 0, 'c'),
      planned('u', 0, 'd'),
      planned('t', 0, 'e'),
      planned('t', 1, 'f'),
    ];
    const metadata = [
      { topicName: 't', partition: 0, errorCode: 0, baseOffset: '100' },
      { topicName: 't', partition: 1, errorCode: 0, baseOffset: '7' },
      { topicName: 'u', partition: 0, errorCode: 0, baseOffset: '0' },
    ];
    expect(assignOffsets(records, metadata)).toEqual([
      { roomId: 'a', partition: 0, offset: 100 },
      { roomId: 'b', partition: 1, offset: 7 },
      { roomId: 'c', partition: 0, offset: 101 },
      { roomId: 'd', partition: 0, offset: 0 },
      { roomId: 'e', partition: 0, offset: 102 },
      { roomId: 'f', partition: 1, offset: 8 },
    ]);
  });

  it('fails as "Kafka unavailable" (retry the same ids) when the response lacks a partition', () => {
    expect(() => assignOffsets([planned('t', 3, 'a')], [])).toThrow(KafkaUnavailableError);
    expect(() => assignOffsets([planned('t', 3, 'a')], [])).toThrow('no base offset for t[3]');
  });
});

describe('RoomProducer guards', () => {
  // These paths never reach Kafka; the real produce path is covered by room-producer.int.spec.ts.
  const kafka = {} as Kafka;

  it('rejects a bad partition count', () => {
    expect(() => new RoomProducer(kafka, { partitions: 0 })).toThrow(RangeError);
  });

  it('refuses to send before connect()', async () => {
    await expect(new RoomProducer(kafka, { partitions: 3 }).send('t', [{ roomId: 'r', value: 'v' }])).rejects.toThrow(
      'before connect()',
    );
  });

  it('rejects a partition outside the topic', async () => {
    const producer = new RoomProducer(kafka, { partitions: 3 });
    await expect(producer.sendToPartition('t', 3, [])).rejects.toThrow('partition must be an integer 0-2 (got 3)');
  });
});

describe('RoomProducer while Kafka is unavailable', () => {
  /**
   * A kafkajs producer whose sends hang until told how to end (like requests to a stopped broker),
   * or are acknowledged at once with `broker.ack`; `broker.down` makes connecting fail.
   */
  function fakeKafka() {
    const broker = { down: false, ack: false, nextOffset: 0 };
    const sends: Array<{ resolve: (metadata: unknown) => void; reject: (error: unknown) => void }> = [];
    const kafka = {
      producer: () => ({
        connect: async () => {
          if (broker.down)
            throw Object.assign(new Error('Connection error: ECONNREFUSED'), { name: 'KafkaJSConnectionError' });
        },
        disconnect: async () => undefined,
        sendBatch: () =>
          broker.ack
            ? Promise.resolve([{ topicName: 't', partition: 0, errorCode: 0, baseOffset: String(broker.nextOffset++) }])
            : new Promise((resolve, reject) => sends.push({ resolve, reject })),
      }),
    } as unknown as Kafka;
    return { kafka, sends, broker };
  }
  const record = [{ roomId: 'r', value: 'v' }];
  const connectionError = Object.assign(new Error('Connection error: ECONNREFUSED'), {
    name: 'KafkaJSConnectionError',
  });

  it('settles a queued send within its own deadline, not after the request in flight', async () => {
    jest.useFakeTimers();
    try {
      const { kafka } = fakeKafka();
      const producer = new RoomProducer(kafka, { partitions: 1, sendTimeoutMs: 300 });
      await producer.connect();
      const outcomes: string[] = [];
      const track = (name: string, promise: Promise<unknown>) =>
        promise.then(
          () => outcomes.push(`${name} resolved`),
          (error: Error) => outcomes.push(`${name} ${error.name}`),
        );
      void track('first', producer.send('t', record));
      await jest.advanceTimersByTimeAsync(200);
      void track('queued', producer.send('t', record));
      await jest.advanceTimersByTimeAsync(299);
      // t = 499 ms: the queued send's own deadline (t = 500) has not passed yet.
      expect(outcomes).toEqual(['first KafkaUnavailableError', 'queued KafkaUnavailableError']);
      await producer.disconnect();
    } finally {
      jest.useRealTimers();
    }
  });

  it('once a send failed for unavailability, fails sends at once until a reconnection succeeds', async () => {
    const { kafka, sends, broker } = fakeKafka();
    const producer = new RoomProducer(kafka, { partitions: 1, sendTimeoutMs: 60_000 });
    await producer.connect();
    const failed = producer.send('t', record);
    const queuedBehind = producer.send('t', record);
    await new Promise((resolve) => setImmediate(resolve));
    broker.down = true;
    sends[0]?.reject(connectionError);
    await expect(failed).rejects.toThrow(/Kafka is unavailable/);
    await expect(queuedBehind).rejects.toThrow(/Kafka is unavailable/);

    // No request waits for kafkajs to fail again: refused at once, nothing sent.
    await expect(producer.send('t', record)).rejects.toThrow(/not queued/);
    expect(sends).toHaveLength(1);

    broker.down = false;
    broker.ack = true;
    const produced = await waitFor(() => producer.send('t', record).catch(() => undefined), {
      timeoutMs: 10_000,
      what: 'a send to succeed once the probe reconnected',
    });
    expect(produced).toEqual([{ roomId: 'r', partition: 0, offset: 0 }]);
    await producer.disconnect();
  });
});

describe('RoomProducer linger', () => {
  /** A kafkajs producer that acknowledges every request at once and records what each carried. */
  function recordingKafka() {
    const requests: number[] = [];
    let nextOffset = 0;
    const kafka = {
      producer: () => ({
        connect: async () => undefined,
        disconnect: async () => undefined,
        sendBatch: async ({ topicMessages }: { topicMessages: Array<{ topic: string; messages: unknown[] }> }) => {
          const count = topicMessages.reduce((sum, t) => sum + t.messages.length, 0);
          requests.push(count);
          const baseOffset = String(nextOffset);
          nextOffset += count;
          return [{ topicName: 't', partition: 0, errorCode: 0, baseOffset }];
        },
      }),
    } as unknown as Kafka;
    return { kafka, requests };
  }

  afterEach(() => jest.useRealTimers());

  it('holds an idle producer’s first send for lingerMs so later sends share its request', async () => {
    const { kafka, requests } = recordingKafka();
    const producer = new RoomProducer(kafka, { partitions: 1, lingerMs: 5 });
    await producer.connect();
    jest.useFakeTimers();
    const first = producer.send('t', [{ roomId: 'a', value: '1' }]);
    const second = producer.send('t', [{ roomId: 'b', value: '2' }]);
    await Promise.resolve();
    expect(requests).toEqual([]);
    await jest.advanceTimersByTimeAsync(5);
    await expect(Promise.all([first, second])).resolves.toEqual([
      [{ roomId: 'a', partition: 0, offset: 0 }],
      [{ roomId: 'b', partition: 0, offset: 1 }],
    ]);
    expect(requests).toEqual([2]);
    jest.useRealTimers();
    await producer.disconnect();
  });

  it('sends at once without a linger (the default)', async () => {
    const { kafka, requests } = recordingKafka();
    const producer = new RoomProducer(kafka, { partitions: 1 });
    await producer.connect();
    await expect(producer.send('t', [{ roomId: 'a', value: '1' }])).resolves.toEqual([
      { roomId: 'a', partition: 0, offset: 0 },
    ]);
    expect(requests).toEqual([1]);
    await producer.disconnect();
  });

  it('rejects a negative linger', () => {
    expect(() => new RoomProducer(recordingKafka().kafka, { partitions: 1, lingerMs: -1 })).toThrow(RangeError);
  });
});
