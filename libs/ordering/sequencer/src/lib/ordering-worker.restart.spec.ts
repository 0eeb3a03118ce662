/**
 * kafkajs never restarts a consumer it crashed with `restart: false`; the worker must recreate it
 * itself or its partitions stall until the pod is restarted. Kafka is faked here because the
 * crash kafkajs produces (group coordinator not found while a broker shuts down) cannot be
 * triggered on demand against a real broker; the readiness e2e exercises the real thing.
 */
import { Logger } from '@nestjs/common';
import type { Kafka } from '@seqcast/kafka';
import type { DataSource } from '@seqcast/persistence';
import { OrderingWorkerService } from './ordering-worker.service';

type Handler = (event: { payload: Record<string, unknown> }) => void;

class FakeConsumer {
  readonly events = { GROUP_JOIN: 'consumer.group_join', CRASH: 'consumer.crash' };
  private readonly handlers = new Map<string, Handler>();
  readonly run = jest.fn(async () => undefined);
  readonly disconnect = jest.fn(async () => undefined);
  connect = jest.fn(async () => undefined);
  subscribe = jest.fn(async () => undefined);

  on(event: string, handler: Handler): void {
    this.handlers.set(event, handler);
  }

  crash(restart: boolean): void {
    this.handlers.get(this.events.CRASH)?.({
      payload: { restart, error: new Error('Failed to find group coordinator') },
    });
  }

  join(): void {
    this.handlers.get(this.events.GROUP_JOIN)?.({ payload: { memberAssignment: { messages: [] } } });
  }
}

function fakeKafka(consumers: FakeConsumer[]): Kafka {
  const client = { connect: async () => undefined, disconnect: async () => undefined, on: () => undefined };
  return {
    consumer: () => {
      const consumer = new FakeConsumer();
      consumers.push(consumer);
      return consumer;
    },
    producer: () => ({ ...client, events: {} }),
    admin: () => client,
  } as unknown as Kafka;
}

/** Lets the promise chains started by timers run to completion. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

describe('OrderingWorkerService when kafkajs gives up on its consumer', () => {
  let consumers: FakeConsumer[];
  let worker: OrderingWorkerService;

  // The crashes are the point of these tests; their log lines would only be noise in CI output.
  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(true));

  beforeEach(async () => {
    jest.useFakeTimers();
    consumers = [];
    worker = new OrderingWorkerService(
      {
        messagesTopic: 'messages',
        eventsTopic: 'events',
        partitions: 3,
        groupId: 'g',
        partitionsConsumedConcurrently: 1,
        lagIntervalMs: 3_600_000,
      },
      fakeKafka(consumers),
      {} as DataSource,
    );
    await worker.start();
    consumers[0].join();
  });

  afterEach(() => jest.useRealTimers());

  it('reports not ready, then recreates the consumer with backoff until one joins again', async () => {
    consumers[0].crash(false);
    expect(() => worker.assertConsuming()).toThrow(/Kafka consumer stopped after: .*group coordinator/);

    await jest.advanceTimersByTimeAsync(999);
    expect(consumers).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1);
    await settle();
    expect(consumers[0].disconnect).toHaveBeenCalled();
    expect(consumers).toHaveLength(2);
    expect(consumers[1].run).toHaveBeenCalled();

    // The broker is still down: the next attempt fails to connect and is retried later (2 s).
    consumers[1].crash(false);
    await jest.advanceTimersByTimeAsync(2_000);
    await settle();
    expect(consumers).toHaveLength(3);

    consumers[2].join();
    expect(() => worker.assertConsuming()).not.toThrow();
  });

  it('leaves restartable crashes to kafkajs', async () => {
    consumers[0].crash(true);
    await jest.advanceTimersByTimeAsync(60_000);
    expect(consumers).toHaveLength(1);
    expect(() => worker.assertConsuming()).not.toThrow();
  });

  it('never recreates a consumer once shutdown began', async () => {
    const stopping = worker.stop();
    consumers[0].crash(false);
    await stopping;
    await jest.advanceTimersByTimeAsync(60_000);
    expect(consumers).toHaveLength(1);
  });
});
