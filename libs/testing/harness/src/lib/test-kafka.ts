import { randomBytes } from 'node:crypto';

export function testKafkaBrokers(): string[] {
  const raw = process.env['KAFKA_BROKERS'];
  return raw
    ? raw
        .split(',')
        .map((b) => b.trim())
        .filter(Boolean)
    : ['127.0.0.1:9092'];
}

/**
 * The client library the suites run the consumers and producers on, as the services choose it
 * (KAFKA_CLIENT): @platformatic/kafka by default, kafkajs with KAFKA_CLIENT=kafkajs.
 */
export function testKafkaClient(): 'kafkajs' | 'platformatic' {
  return process.env['KAFKA_CLIENT'] === 'kafkajs' ? 'kafkajs' : 'platformatic';
}

/** Topic names no other test (or a developer's local stack) uses, so suites can run side by side. */
export function uniqueTopics(prefix = 'test'): { messagesTopic: string; eventsTopic: string } {
  const id = `${prefix}.${Date.now().toString(36)}.${randomBytes(3).toString('hex')}`;
  return { messagesTopic: `${id}.messages`, eventsTopic: `${id}.events` };
}
