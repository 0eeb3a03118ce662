import { Logger } from '@nestjs/common';
import type { Principal } from '@seqcast/auth';
import { KafkaUnavailableError, type ProducedRecord, type RoomRecord } from '@seqcast/kafka';
import type { RecordProducer } from '@seqcast/publish-core';
import { SocketPublisher } from './socket-publish';

const alice: Principal = {
  userId: 'alice',
  kind: 'token',
  grants: { publish: ['lobby'], subscribe: [], history: [] },
  expiresAt: new Date(Date.now() + 3_600_000),
};

class ScriptedProducer implements RecordProducer {
  failure: Error | undefined;
  async connect(): Promise<void> {
    return undefined;
  }
  async disconnect(): Promise<void> {
    return undefined;
  }
  async send(_topic: string, records: RoomRecord[]): Promise<ProducedRecord[]> {
    if (this.failure) throw this.failure;
    return records.map((r, i) => ({ roomId: r.roomId, partition: 0, offset: i }));
  }
}

function setup() {
  const producer = new ScriptedProducer();
  const publisher = new SocketPublisher(
    producer,
    { messagesTopic: 't', partitions: 1, maxPayloadBytes: 1_024, rateLimit: { messagesPerSecond: 0 } },
    undefined,
  );
  return { producer, publisher };
}

const body = { roomId: 'lobby', clientMsgId: 'c-1', payload: { text: 'hi' } };

beforeAll(() => {
  jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
});

describe('SocketPublisher', () => {
  it('answers the HTTP 202 body as result', async () => {
    const { publisher } = setup();
    await expect(publisher.publish({ principal: alice, draining: false }, body)).resolves.toEqual({
      ok: true,
      result: { roomId: 'lobby', clientMsgId: 'c-1', partition: 0, offset: 0, duplicate: false },
    });
  });

  it('refuses while draining (unavailable, with retryAfterMs) and without a principal, before anything else', async () => {
    const { publisher } = setup();
    await expect(publisher.publish({ principal: alice, draining: true }, body)).resolves.toMatchObject({
      ok: false,
      error: { code: 'unavailable', retryAfterMs: 5_000 },
    });
    await expect(publisher.publish({ principal: undefined, draining: false }, body)).resolves.toMatchObject({
      ok: false,
      error: { code: 'unauthorized' },
    });
  });

  it('answers a broker that cannot take writes unavailable, and a bug internal without its details', async () => {
    const { producer, publisher } = setup();
    producer.failure = new KafkaUnavailableError('send: ECONNREFUSED');
    await expect(publisher.publish({ principal: alice, draining: false }, body)).resolves.toEqual({
      ok: false,
      error: {
        code: 'unavailable',
        message: 'the message broker cannot take writes right now; retry later',
        retryAfterMs: 5_000,
      },
    });
    producer.failure = new TypeError('x is undefined');
    await expect(publisher.publish({ principal: alice, draining: false }, { ...body, clientMsgId: 'c-2' })).resolves.toEqual({
      ok: false,
      error: { code: 'internal', message: 'internal server error' },
    });
  });
});
