import {
  KafkaJSConnectionError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSRequestTimeoutError,
} from 'kafkajs';
import { MultipleErrors, NetworkError, ProtocolError, TimeoutError, UserError } from '@platformatic/kafka';
import { isKafkaUnavailable, KafkaUnavailableError, TopicMismatchError, toKafkaUnavailable } from './kafka-errors';

function protocolError(type: string): KafkaJSProtocolError {
  // kafkajs builds these from its error-code table: { type, code, retriable, message }.
  return new KafkaJSProtocolError({ type, code: 0, retriable: true, message: type } as unknown as Error);
}

describe('isKafkaUnavailable', () => {
  it.each([
    ['connection refused', new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:1')],
    ['request timeout', new KafkaJSRequestTimeoutError('Request Produce(key: 0, version: 7) timed out')],
    ['not enough replicas', protocolError('NOT_ENOUGH_REPLICAS')],
    ['not enough replicas after append', protocolError('NOT_ENOUGH_REPLICAS_AFTER_APPEND')],
    ['leader moving', protocolError('NOT_LEADER_FOR_PARTITION')],
    [
      'retries exhausted',
      new KafkaJSNumberOfRetriesExceeded(new KafkaJSConnectionError('refused'), { retryCount: 5, retryTime: 3000 }),
    ],
    [
      'wrapped via cause',
      Object.assign(new KafkaJSNonRetriableError('wrapper'), { cause: new KafkaJSConnectionError('refused') }),
    ],
  ])('is true for %s', (_label, error) => {
    expect(isKafkaUnavailable(error)).toBe(true);
  });

  it.each([
    ['message too large', protocolError('MESSAGE_TOO_LARGE')],
    ['authorization', protocolError('TOPIC_AUTHORIZATION_FAILED')],
    ['plain error', new Error('boom')],
    ['not an error', 'string'],
  ])('is false for %s', (_label, error) => {
    expect(isKafkaUnavailable(error)).toBe(false);
  });

  it('survives cause cycles', () => {
    const a = new Error('a') as Error & { cause?: unknown };
    const b = new Error('b', { cause: a });
    a.cause = b;
    expect(isKafkaUnavailable(a)).toBe(false);
  });
});

describe('toKafkaUnavailable', () => {
  it('wraps transient errors and keeps the cause', () => {
    const cause = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:1');
    const mapped = toKafkaUnavailable(cause, 'send');
    expect(mapped).toBeInstanceOf(KafkaUnavailableError);
    expect((mapped as Error).message).toBe(
      'send: Kafka is unavailable (Connection error: connect ECONNREFUSED 127.0.0.1:1)',
    );
    expect((mapped as Error).cause).toBe(cause);
  });

  it('passes other errors through unchanged', () => {
    const error = protocolError('MESSAGE_TOO_LARGE');
    expect(toKafkaUnavailable(error, 'send')).toBe(error);
    const already = new KafkaUnavailableError('x');
    expect(toKafkaUnavailable(already, 'send')).toBe(already);
  });
});

describe('@platformatic/kafka errors (KAFKA_CLIENT=platformatic)', () => {
  const refused = () =>
    new NetworkError('Connection to 127.0.0.1:1 failed.', {
      cause: Object.assign(new AggregateError([], ''), { code: 'ECONNREFUSED' }),
    });

  it.each([
    ['a network error', refused()],
    ['a timeout', new TimeoutError('Request timed out')],
    ['not enough replicas', new ProtocolError('NOT_ENOUGH_REPLICAS')],
    ['retries exhausted', new MultipleErrors('initProducerId failed 6 times.', [refused(), refused()])],
  ])('%s is unavailable', (_label, error) => {
    expect(isKafkaUnavailable(error)).toBe(true);
  });

  it.each([
    ['message too large', new ProtocolError('MESSAGE_TOO_LARGE')],
    ['a usage error', new UserError('bad option')],
  ])('%s is not', (_label, error) => {
    expect(isKafkaUnavailable(error)).toBe(false);
  });

  it('names what an aggregate aggregates, with the socket error code', () => {
    const mapped = toKafkaUnavailable(
      new MultipleErrors('initProducerId failed 6 times.', [refused(), refused()]),
      'connect',
    );
    expect((mapped as Error).message).toBe(
      'connect: Kafka is unavailable (initProducerId failed 6 times.: Connection to 127.0.0.1:1 failed. (ECONNREFUSED))',
    );
  });
});

describe('TopicMismatchError', () => {
  it('says what is wrong and how to fix it', () => {
    const error = new TopicMismatchError('seqcast.messages', 3, 12);
    expect(error.message).toMatch(/^topic "seqcast\.messages" exists with 3 partitions but SEQCAST_PARTITIONS=12; /);
    expect(error.message).toContain('set SEQCAST_PARTITIONS=3');
    expect(error.message).toContain('recreate it with 12 partitions');
    expect(error).toMatchObject({ topic: 'seqcast.messages', actualPartitions: 3, expectedPartitions: 12 });
  });
});
