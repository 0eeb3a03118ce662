/**
 * Helpers for this lib's integration tests. (This lib is data-access, so it cannot import the
 * type:testing harness; these are the few pieces it needs.)
 */
import { randomBytes } from 'node:crypto';
import type { Kafka } from 'kafkajs';

export function brokers(): string[] {
  const raw = process.env['KAFKA_BROKERS'];
  return raw ? raw.split(',').map((b) => b.trim()) : ['127.0.0.1:9092'];
}

export function uniqueName(prefix = 't'): string {
  return `${prefix}.${Date.now().toString(36)}.${randomBytes(4).toString('hex')}`;
}

/** Polls until `probe` returns a value other than undefined/false, or fails naming `what`. */
export async function waitFor<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
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
    await waitFor(() => seen.length >= expected, `${expected} records on ${topic} (have ${seen.length})`);
  } finally {
    await consumer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
  return seen;
}
