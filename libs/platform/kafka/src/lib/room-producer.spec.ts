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
