/** Helpers for this lib's integration tests, on top of the shared harness. */
import { randomBytes } from 'node:crypto';
import { waitFor } from '@seqcast/testing';
import type { Kafka } from 'kafkajs';

export { testKafkaBrokers as brokers } from '@seqcast/testing';

export function uniqueName(prefix = 't'): string {
  return `${prefix}.${Date.now().toString(36)}.${randomBytes(4).toString('hex')}`;
}

export interface ConsumedRecord {
  partition: number;
  offset: number;
  key: string | undefined;
  value: string | undefined;
}

/** Reads a topic from the beginning with a throwaway consumer group until `expected` records arrived. */
export async function consumeAll(kafka: Kafka, topic: string, expected: number): Promise<ConsumedRecord[]> {
  const groupId = uniqueName('g');
  const consumer = kafka.consumer({ groupId });
  const seen: ConsumedRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        seen.push({
          partition,
          offset: Number(message.offset),
          key: message.key?.toString(),
          value: message.value?.toString(),
        });
      },
    });
    await waitFor(() => seen.length >= expected, { timeoutMs: 20_000, what: `${expected} records on ${topic}` });
  } finally {
    await consumer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
  return seen;
}
