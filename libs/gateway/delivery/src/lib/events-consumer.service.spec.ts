import { Logger } from '@nestjs/common';
import type { Kafka } from '@seqcast/kafka';
import { EventsConsumerService, RESTART_INITIAL_DELAY_MS, RESTART_MAX_DELAY_MS } from './events-consumer.service';
import type { SubscriptionService } from './subscription.service';

const EVENTS = {
  GROUP_JOIN: 'consumer.group_join',
  FETCH_START: 'consumer.fetch_start',
  FETCH: 'consumer.fetch',
  REBALANCING: 'consumer.rebalancing',
  CRASH: 'consumer.crash',
  STOP: 'consumer.stop',
} as const;

/** A kafkajs consumer as the service uses it: events can be emitted, lifecycle calls are recorded. */
class FakeConsumer {
  readonly events = EVENTS;
  readonly listeners = new Map<string, ((event: { payload: unknown }) => void)[]>();
  connected = false;
  running = false;
  disconnects = 0;
  constructor(private readonly failConnect: boolean) {}

  on(event: string, listener: (event: { payload: unknown }) => void): () => void {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
    return () => undefined;
  }
  emit(event: string, payload: unknown = {}): void {
    for (const listener of this.listeners.get(event) ?? []) listener({ payload });
  }
  crash(message: string, restart = false): void {
    this.emit(EVENTS.CRASH, { error: new Error(message), groupId: 'g', restart });
  }
  consume(): void {
    this.emit(EVENTS.GROUP_JOIN);
    this.emit(EVENTS.FETCH_START);
    this.emit(EVENTS.FETCH);
  }
  async connect(): Promise<void> {
    if (this.failConnect) throw new Error('Connection error: ECONNREFUSED');
    this.connected = true;
  }
  async subscribe(): Promise<void> {
    // nothing to record
  }
  async run(): Promise<void> {
    this.running = true;
  }
  async disconnect(): Promise<void> {
    this.disconnects++;
    this.connected = false;
    this.running = false;
    throw new Error('disconnect of a crashed consumer may fail');
  }
}

function setup() {
  const consumers: FakeConsumer[] = [];
  /** Whether the next consumers created fail to connect (the broker is still down). */
  const broker = { down: false };
  const kafka = {
    consumer: jest.fn((_config: unknown) => {
      const consumer = new FakeConsumer(broker.down);
      consumers.push(consumer);
      return consumer;
    }),
  };
  const service = new EventsConsumerService(
    kafka as unknown as Kafka,
    { eventsTopic: 'events', groupId: 'seqcast-gateway-test' },
    {} as SubscriptionService,
  );
  return { service, kafka, consumers, broker };
}

/** Runs due timers and lets the restart's awaits settle. */
async function advance(ms: number): Promise<void> {
  await jest.advanceTimersByTimeAsync(ms);
}

describe('EventsConsumerService restarts a consumer kafkajs crashed for good', () => {
  beforeEach(() => {
    jest.useFakeTimers();
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('recreates and runs a new consumer 1 s after a non-restarting crash; readiness recovers', async () => {
    const { service, kafka, consumers } = setup();
    await service.onApplicationBootstrap();
    consumers[0].consume();
    await expect(service.checkConsuming()).resolves.toBeUndefined();

    consumers[0].crash('Failed to find group coordinator');
    await expect(service.checkConsuming()).rejects.toThrow('events consumer stopped: Failed to find group coordinator');
    await advance(RESTART_INITIAL_DELAY_MS - 1);
    expect(kafka.consumer).toHaveBeenCalledTimes(1);

    await advance(1);
    expect(kafka.consumer).toHaveBeenCalledTimes(2);
    expect(kafka.consumer).toHaveBeenNthCalledWith(2, {
      groupId: 'seqcast-gateway-test',
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 1000,
    });
    expect(consumers[0].disconnects).toBe(1); // its failure was ignored
    expect(consumers[1].running).toBe(true);
    await expect(service.checkConsuming()).rejects.toThrow('not yet consuming events');

    consumers[0].consume(); // the old consumer's events no longer count
    await expect(service.checkConsuming()).rejects.toThrow('not yet consuming events');
    consumers[1].consume();
    await expect(service.checkConsuming()).resolves.toBeUndefined();
  });

  it('leaves a crash kafkajs restarts itself to kafkajs', async () => {
    const { service, kafka, consumers } = setup();
    await service.onApplicationBootstrap();
    consumers[0].consume();
    consumers[0].crash('The coordinator is loading', true);
    await expect(service.checkConsuming()).rejects.toThrow('not yet consuming events');
    await advance(RESTART_MAX_DELAY_MS * 2);
    expect(kafka.consumer).toHaveBeenCalledTimes(1);
  });

  it('retries with a doubling backoff while the broker is down, and resets it once consuming', async () => {
    const { service, kafka, consumers, broker } = setup();
    await service.onApplicationBootstrap();
    broker.down = true;
    consumers[0].crash('Failed to find group coordinator');

    const attemptsAt: number[] = [];
    const start = Date.now();
    kafka.consumer.mockImplementation((_config: unknown) => {
      attemptsAt.push(Date.now() - start);
      const consumer = new FakeConsumer(broker.down);
      consumers.push(consumer);
      return consumer;
    });
    await advance(1000 + 2000 + 4000 + 8000 + 16000 + 30000 + 30000);
    expect(attemptsAt).toEqual([1000, 3000, 7000, 15000, 31000, 61000, 91000]);
    await expect(service.checkConsuming()).rejects.toThrow('events consumer stopped');

    broker.down = false;
    await advance(30000);
    const recreated = consumers[consumers.length - 1];
    expect(recreated.running).toBe(true);
    recreated.consume();
    await expect(service.checkConsuming()).resolves.toBeUndefined();

    recreated.crash('Failed to find group coordinator');
    await advance(RESTART_INITIAL_DELAY_MS);
    expect(attemptsAt[attemptsAt.length - 1]).toBe(121000 + RESTART_INITIAL_DELAY_MS);
    expect(consumers[consumers.length - 1].running).toBe(true);
  });

  it('does not recreate a consumer that crashes during shutdown', async () => {
    const { service, kafka, consumers } = setup();
    await service.onApplicationBootstrap();
    consumers[0].consume();
    const shutdown = service.onApplicationShutdown().catch(() => undefined);
    consumers[0].crash('Failed to find group coordinator');
    await shutdown;
    await advance(RESTART_MAX_DELAY_MS * 2);
    expect(kafka.consumer).toHaveBeenCalledTimes(1);
  });

  it('cancels a pending restart on shutdown', async () => {
    const { service, kafka, consumers } = setup();
    await service.onApplicationBootstrap();
    consumers[0].crash('Failed to find group coordinator');
    consumers[0].crash('Failed to find group coordinator'); // a single timer
    expect(jest.getTimerCount()).toBe(1);
    await service.onApplicationShutdown().catch(() => undefined);
    expect(jest.getTimerCount()).toBe(0);
    await advance(RESTART_MAX_DELAY_MS * 2);
    expect(kafka.consumer).toHaveBeenCalledTimes(1);
  });

  it('disconnects a consumer recreated while shutdown began', async () => {
    const { service, kafka, consumers } = setup();
    await service.onApplicationBootstrap();
    consumers[0].crash('Failed to find group coordinator');
    let releaseConnect: () => void = () => undefined;
    kafka.consumer.mockImplementationOnce((_config: unknown) => {
      const consumer = new FakeConsumer(false);
      consumer.connect = () => new Promise<void>((resolve) => (releaseConnect = resolve));
      consumers.push(consumer);
      return consumer;
    });
    await advance(RESTART_INITIAL_DELAY_MS);
    expect(consumers).toHaveLength(2);
    await service.onApplicationShutdown().catch(() => undefined);
    expect(consumers[1].disconnects).toBe(1);
    releaseConnect();
    await advance(RESTART_MAX_DELAY_MS * 2);
    expect(consumers[1].disconnects).toBe(2); // again, once its start returned
    expect(kafka.consumer).toHaveBeenCalledTimes(2);
  });
});
