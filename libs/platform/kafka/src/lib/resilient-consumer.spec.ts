import { EventEmitter } from 'node:events';
import type { Kafka } from 'kafkajs';
import { rememberKafkaSettings } from './kafka-client';
import { ResilientConsumer } from './resilient-consumer';
import { StaleMemberRemover } from './stale-member-remover';

const EVENTS = {
  GROUP_JOIN: 'consumer.group_join',
  FETCH: 'consumer.fetch',
  FETCH_START: 'consumer.fetch_start',
  HEARTBEAT: 'consumer.heartbeat',
  REBALANCING: 'consumer.rebalancing',
  STOP: 'consumer.stop',
  CRASH: 'consumer.crash',
};

/** Stands in for a kafkajs consumer: the wrapper's logic only sees its calls and its events. */
class FakeConsumer extends EventEmitter {
  readonly events = EVENTS;
  disconnected = false;
  constructor(
    readonly config: Record<string, unknown>,
    private readonly failConnect: boolean,
  ) {
    super();
  }
  async connect() {
    if (this.failConnect) throw new Error('Connection error: ECONNREFUSED');
  }
  subscribe = async () => undefined;
  run = async () => undefined;
  async disconnect() {
    this.disconnected = true;
  }
  fire(event: keyof typeof EVENTS, payload: unknown = {}) {
    this.emit(EVENTS[event], { payload });
  }
  /** Joins with `assignment` and completes a first fetch. */
  consume(assignment: Record<string, number[]>) {
    this.fire('GROUP_JOIN', { memberAssignment: assignment });
    this.fire('FETCH_START');
    this.fire('FETCH');
  }
}

function fakeKafka(failFirstConnects = 0) {
  const consumers: FakeConsumer[] = [];
  const kafka = {
    consumer: (config: Record<string, unknown>) => {
      const consumer = new FakeConsumer(config, consumers.length < failFirstConnects);
      consumers.push(consumer);
      return consumer;
    },
  } as unknown as Kafka;
  return { kafka, consumers };
}

const logger = { log: () => undefined, warn: () => undefined };
const flush = () => new Promise((resolve) => setImmediate(resolve));
const until = async (condition: () => boolean) => {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(condition()).toBe(true);
};

function create(kafka: Kafka, extra: Partial<ConstructorParameters<typeof ResilientConsumer>[1]> = {}) {
  return new ResilientConsumer(kafka, {
    name: 'test consumer',
    consumer: { groupId: 'g' },
    subscribe: { topics: ['t'] },
    run: { eachBatch: async () => undefined },
    logger,
    restart: { initialDelayMs: 1, maxDelayMs: 4 },
    ...extra,
  });
}

describe('ResilientConsumer', () => {
  it('passes the group timeouts to kafkajs and is consuming only once joined', async () => {
    const { kafka, consumers } = fakeKafka();
    const joins: Array<Record<string, number[]>> = [];
    const consumer = create(kafka, { onJoin: (assignment) => joins.push(assignment) });
    consumer.start();
    await flush();
    expect(consumers[0]?.config).toMatchObject({ groupId: 'g', sessionTimeout: 6_000, heartbeatInterval: 1_000 });
    expect(consumer.status()).toMatchObject({ consuming: false });
    consumers[0]?.fire('FETCH_START');
    consumers[0]?.fire('GROUP_JOIN', { memberAssignment: { t: [0, 2] } });
    // A fetch started before the join says nothing about the new assignment's offsets.
    consumers[0]?.fire('FETCH');
    expect(consumer.status()).toMatchObject({ consuming: false, reason: expect.stringMatching(/first fetch pending/) });
    consumers[0]?.fire('FETCH_START');
    consumers[0]?.fire('FETCH');
    expect(consumer.status()).toEqual({ consuming: true, assignment: { t: [0, 2] } });
    expect(joins).toEqual([{ t: [0, 2] }]);
  });

  it('keeps retrying a broker that is unreachable at start-up, reporting why', async () => {
    const { kafka, consumers } = fakeKafka(2);
    const consumer = create(kafka);
    consumer.start();
    await until(() => consumers.length === 3);
    expect(consumers[0]?.disconnected).toBe(true);
    expect(() => consumer.assertConsuming()).toThrow(/ECONNREFUSED|connecting/);
    consumers[2]?.consume({ t: [1] });
    expect(consumer.status().consuming).toBe(true);
  });

  it('recreates a consumer kafkajs gave up on, but not one kafkajs restarts itself', async () => {
    const { kafka, consumers } = fakeKafka();
    const leaves: string[] = [];
    const consumer = create(kafka, { onLeave: (reason) => leaves.push(reason) });
    consumer.start();
    await flush();
    consumers[0]?.consume({ t: [0] });

    consumers[0]?.fire('CRASH', { error: new Error('retriable'), restart: true });
    expect(consumer.status()).toMatchObject({ consuming: false, assignment: {} });
    expect(leaves).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(consumers).toHaveLength(1);

    consumers[0]?.fire('CRASH', { error: new Error('coordinator not found'), restart: false });
    expect(consumer.status().reason).toMatch(/coordinator not found/);
    await until(() => consumers.length === 2);
    // Events of the consumer that was replaced no longer count.
    consumers[0]?.consume({ t: [0] });
    expect(consumer.status().consuming).toBe(false);
    consumers[1]?.consume({ t: [0] });
    expect(consumer.status().consuming).toBe(true);
  });

  it('is not consuming while rebalancing, nor when kafkajs has shown no life for a while', async () => {
    let now = 1_000;
    const { kafka, consumers } = fakeKafka();
    const consumer = create(kafka, { now: () => now, staleAfterMs: 10_000 });
    consumer.start();
    await flush();
    consumers[0]?.consume({ t: [0] });
    now += 9_000;
    consumers[0]?.fire('HEARTBEAT');
    now += 9_000;
    expect(consumer.status().consuming).toBe(true);
    now += 2_000;
    expect(consumer.status()).toMatchObject({
      consuming: false,
      reason: expect.stringMatching(/no fetch or heartbeat/),
    });
    consumers[0]?.fire('FETCH');
    expect(consumer.status().consuming).toBe(true);
    consumers[0]?.fire('REBALANCING');
    expect(consumer.status()).toMatchObject({ consuming: false, reason: 'test consumer: rebalancing' });
  });

  it('stops for good: disconnects, and never recreates afterwards', async () => {
    const { kafka, consumers } = fakeKafka();
    const consumer = create(kafka);
    consumer.start();
    await flush();
    consumers[0]?.consume({ t: [0] });
    await consumer.stop();
    expect(consumers[0]?.disconnected).toBe(true);
    consumers[0]?.fire('CRASH', { error: new Error('late'), restart: false });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(consumers).toHaveLength(1);
    expect(consumer.status().consuming).toBe(false);
  });

  it('stays down when started after stop (a SIGTERM during start-up), and refuses a second start', async () => {
    const { kafka, consumers } = fakeKafka();
    const stoppedFirst = create(kafka);
    await stoppedFirst.stop();
    expect(() => stoppedFirst.start()).not.toThrow();
    await flush();
    expect(consumers).toHaveLength(0);
    expect(stoppedFirst.status()).toMatchObject({ consuming: false, reason: 'test consumer is stopped' });

    const running = create(kafka);
    running.start();
    expect(() => running.start()).toThrow(/already started/);
    await running.stop();
  });

  it('refuses timeouts that would evict live members', () => {
    expect(() =>
      create(fakeKafka().kafka, {
        timeouts: { sessionTimeoutMs: 6_000, heartbeatIntervalMs: 3_000, rebalanceTimeoutMs: 30_000 },
      }),
    ).toThrow(RangeError);
  });
});

describe('ResilientConsumer: removing its own abandoned members', () => {
  let removals: string[];
  let joins: string[];
  let stops: number;

  beforeEach(() => {
    removals = [];
    joins = [];
    stops = 0;
    // The remover's own behaviour (admin client, retries) is tested against real brokers; here only what it is told.
    jest.spyOn(StaleMemberRemover.prototype, 'remove').mockImplementation((groupId, memberId) => {
      removals.push(`${groupId}/${memberId}`);
    });
    jest.spyOn(StaleMemberRemover.prototype, 'joined').mockImplementation((memberId) => {
      joins.push(memberId);
    });
    jest.spyOn(StaleMemberRemover.prototype, 'stop').mockImplementation(async () => {
      stops++;
    });
  });

  afterEach(() => jest.restoreAllMocks());

  function clientFromSettings() {
    const fake = fakeKafka();
    rememberKafkaSettings(fake.kafka, { brokers: ['127.0.0.1:9'], clientId: 'test' });
    return fake;
  }

  const join = (consumer: FakeConsumer | undefined, memberId: string) =>
    consumer?.fire('GROUP_JOIN', { groupId: 'g', memberId, memberAssignment: { t: [0] } });

  it('removes the member a crashed consumer was, and none after ordinary rebalances', async () => {
    const { kafka, consumers } = clientFromSettings();
    const consumer = create(kafka);
    consumer.start();
    await flush();
    join(consumers[0], 'm1');
    // Another member joining: kafkajs rejoins with the same member id, nothing is abandoned.
    consumers[0]?.fire('REBALANCING');
    join(consumers[0], 'm1');
    expect(removals).toEqual([]);
    expect(joins).toEqual(['m1', 'm1']);

    consumers[0]?.fire('CRASH', { error: new Error('retriable'), restart: true });
    expect(removals).toEqual(['g/m1']);
    // kafkajs restarting again before any join abandons nothing new.
    consumers[0]?.fire('CRASH', { error: new Error('retriable'), restart: true });
    expect(removals).toEqual(['g/m1']);

    join(consumers[0], 'm2');
    consumers[0]?.fire('CRASH', { error: new Error('coordinator not found'), restart: false });
    expect(removals).toEqual(['g/m1', 'g/m2']);
    await until(() => consumers.length === 2);
    join(consumers[1], 'm3');
    expect(joins).toEqual(['m1', 'm1', 'm2', 'm3']);

    await consumer.stop();
    expect(stops).toBe(1);
    expect(removals).toEqual(['g/m1', 'g/m2']);
  });

  it('removes nothing for a consumer that never joined, nor for a client not made by createKafka', async () => {
    const unjoined = clientFromSettings();
    const first = create(unjoined.kafka);
    first.start();
    await flush();
    unjoined.consumers[0]?.fire('CRASH', { error: new Error('retriable'), restart: true });
    await first.stop();

    const foreign = fakeKafka();
    const second = create(foreign.kafka);
    second.start();
    await flush();
    join(foreign.consumers[0], 'm1');
    foreign.consumers[0]?.fire('CRASH', { error: new Error('retriable'), restart: true });
    await second.stop();

    expect(removals).toEqual([]);
    expect(stops).toBe(1);
  });
});
