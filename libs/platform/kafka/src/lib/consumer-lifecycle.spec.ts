import {
  ConsumerLifecycle,
  DEFAULT_GROUP_TIMEOUTS,
  groupTimeoutProblems,
  type ResilientConsumerOptions,
  restartDelayMs,
} from './consumer-lifecycle';
import type { KafkaSettings } from './kafka-client';
import { StaleMemberRemover } from './stale-member-remover';

/** A client's consumer, as far as the lifecycle sees it: an identity, retired or left. */
interface FakeClient {
  id: number;
  retired: boolean;
  left: boolean;
}

/**
 * The smallest client: each launch makes a new FakeClient, which fails to start while
 * `failingLaunches` lasts; the test drives joins, fetches and crashes through the protected API
 * that a real client's event handlers call.
 */
class TestConsumer extends ConsumerLifecycle<FakeClient> {
  readonly clients: FakeClient[] = [];
  /** Hook calls and callbacks, in order. */
  calls: string[] = [];
  failingLaunches = 0;
  private fetched = false;

  constructor(options: ResilientConsumerOptions, settings?: KafkaSettings) {
    super(options, settings);
  }

  join(memberId: string, assignment: Record<string, number[]>, client = this.consumer): void {
    if (client && this.isCurrent(client)) this.joined(client, { groupId: 'g', memberId }, assignment);
  }

  fetch(client = this.consumer): void {
    if (!client || !this.isCurrent(client)) return;
    this.showedLife();
    if (this.isMember) this.fetched = true;
  }

  /** Joins with `assignment` and completes a first fetch. */
  consume(memberId: string, assignment: Record<string, number[]>): void {
    this.join(memberId, assignment);
    this.fetch();
  }

  heartbeat(): void {
    this.showedLife();
  }

  rebalance(): void {
    this.notMember('rebalancing');
  }

  crash(reason: string, client = this.consumer): void {
    if (!client || !this.isCurrent(client)) return;
    this.abandonMembership();
    this.notMember(`crashed (${reason})`);
    this.recreateLater(client, reason);
  }

  /** A failure that a client reports without checking that `client` is still current. */
  reportFailure(client: FakeClient, reason: string): void {
    this.recreateLater(client, reason);
  }

  protected async launch(): Promise<void> {
    const client: FakeClient = { id: this.clients.length, retired: false, left: false };
    this.clients.push(client);
    this.consumer = client;
    this.calls.push(`launch ${client.id}`);
    if (this.failingLaunches === 0) return;
    this.failingLaunches--;
    this.abandonMembership();
    this.notMember('starting failed: ECONNREFUSED');
    this.recreateLater(client, 'starting failed: ECONNREFUSED');
  }

  protected assigned(client: FakeClient, assignment: Record<string, number[]>): void {
    this.fetched = false;
    this.calls.push(`assigned ${client.id} ${JSON.stringify(assignment)}`);
  }

  protected firstFetchPending(): string | undefined {
    return this.fetched ? undefined : 'first fetch pending';
  }

  protected async retire(failed: FakeClient): Promise<void> {
    failed.retired = true;
    this.calls.push(`retire ${failed.id}`);
  }

  protected async leave(client: FakeClient | undefined): Promise<void> {
    if (client) client.left = true;
    this.calls.push(`leave ${client?.id ?? 'none'}`);
  }

  protected override halt(): void {
    this.calls.push('halt');
  }

  protected override membershipLost(): void {
    this.calls.push('membership lost');
  }
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

function create(extra: Partial<ResilientConsumerOptions> = {}, settings?: KafkaSettings) {
  const lines: string[] = [];
  const consumer = new TestConsumer(
    {
      name: 'test consumer',
      consumer: { groupId: 'g' },
      subscribe: { topics: ['t'] },
      run: { eachBatch: async () => undefined },
      logger: { log: (line) => lines.push(`log ${line}`), warn: (line) => lines.push(`warn ${line}`) },
      restart: { initialDelayMs: 100, maxDelayMs: 400 },
      onJoin: (assignment) => consumer.calls.push(`onJoin ${JSON.stringify(assignment)}`),
      onLeave: (reason) => consumer.calls.push(`onLeave ${reason}`),
      ...extra,
    },
    settings,
  );
  return { consumer, lines };
}

describe('restartDelayMs', () => {
  it('doubles from the initial delay and stays at the cap, so a returning broker is noticed within it', () => {
    expect([0, 1, 2, 3, 10, 1000].map((n) => restartDelayMs(n))).toEqual([500, 1000, 2000, 2000, 2000, 2000]);
    expect([0, 1, 2].map((n) => restartDelayMs(n, { initialDelayMs: 100, maxDelayMs: 250 }))).toEqual([100, 200, 250]);
  });
});

describe('ConsumerLifecycle', () => {
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('refuses timeouts that would evict live members', () => {
    expect(groupTimeoutProblems(DEFAULT_GROUP_TIMEOUTS)).toEqual([]);
    expect(
      groupTimeoutProblems({ sessionTimeoutMs: 6_000, heartbeatIntervalMs: 3_000, rebalanceTimeoutMs: 1_000 }),
    ).toEqual([expect.stringMatching(/at most a third/), expect.stringMatching(/at least the session timeout/)]);
    const evicting = () =>
      create({ timeouts: { sessionTimeoutMs: 6_000, heartbeatIntervalMs: 3_000, rebalanceTimeoutMs: 30_000 } });
    expect(evicting).toThrow(RangeError);
    expect(evicting).toThrow(/^test consumer: heartbeat interval 3000 ms must be at most a third/);
  });

  it('is consuming only once joined and fetched, with the assignment of the join', async () => {
    const { consumer } = create();
    expect(consumer.status()).toEqual({ consuming: false, reason: 'test consumer is new', assignment: {} });
    consumer.start();
    expect(consumer.status()).toEqual({
      consuming: false,
      reason: 'test consumer: connecting to Kafka',
      assignment: {},
    });
    await flush();
    consumer.join('m1', { t: [0, 2] });
    expect(consumer.status()).toEqual({
      consuming: false,
      reason: 'test consumer: joined, first fetch pending',
      assignment: { t: [0, 2] },
    });
    expect(() => consumer.assertConsuming()).toThrow('test consumer: joined, first fetch pending');
    consumer.fetch();
    expect(consumer.status()).toEqual({ consuming: true, assignment: { t: [0, 2] } });
    expect(() => consumer.assertConsuming()).not.toThrow();
    // The client's state for the assignment is in place before onJoin hears of it.
    expect(consumer.calls).toEqual(['launch 0', 'assigned 0 {"t":[0,2]}', 'onJoin {"t":[0,2]}']);
  });

  it('is not consuming while no fetch nor heartbeat came for longer than staleAfterMs', async () => {
    let now = 1_000;
    const { consumer } = create({ now: () => now, staleAfterMs: 10_000 });
    consumer.start();
    await flush();
    consumer.consume('m1', { t: [0] });
    now += 9_000;
    consumer.heartbeat();
    now += 10_000;
    expect(consumer.status().consuming).toBe(true);
    now += 1;
    expect(consumer.status()).toEqual({
      consuming: false,
      reason: 'test consumer: no fetch or heartbeat for 10001 ms',
      assignment: { t: [0] },
    });
    consumer.fetch();
    expect(consumer.status().consuming).toBe(true);
  });

  it('takes twice the session timeout, at least 10 s, as staleAfterMs by default', async () => {
    let now = 0;
    const { consumer } = create({
      now: () => now,
      timeouts: { sessionTimeoutMs: 7_000, heartbeatIntervalMs: 1_000, rebalanceTimeoutMs: 7_000 },
    });
    consumer.start();
    await flush();
    consumer.consume('m1', { t: [0] });
    now += 14_000;
    expect(consumer.status().consuming).toBe(true);
    now += 1;
    expect(consumer.status().consuming).toBe(false);

    const short = create({ now: () => now });
    short.consumer.start();
    await flush();
    short.consumer.consume('m1', { t: [0] });
    now += 12_000;
    expect(short.consumer.status().consuming).toBe(true);
    now += 1;
    expect(short.consumer.status().consuming).toBe(false);
  });

  it('voids the assignment when the membership is lost, and tells onLeave only if it was a member', async () => {
    const { consumer } = create();
    consumer.start();
    await flush();
    consumer.rebalance();
    consumer.consume('m1', { t: [1] });
    consumer.rebalance();
    expect(consumer.status()).toEqual({ consuming: false, reason: 'test consumer: rebalancing', assignment: {} });
    expect(consumer.calls).toEqual([
      'launch 0',
      'membership lost',
      'assigned 0 {"t":[1]}',
      'onJoin {"t":[1]}',
      'membership lost',
      'onLeave rebalancing',
    ]);
  });

  it('recreates a failed consumer with a doubling backoff, reset by a join', async () => {
    jest.useFakeTimers();
    const { consumer, lines } = create();
    consumer.failingLaunches = 3;
    consumer.start();
    expect(consumer.status().reason).toBe('test consumer: starting failed: ECONNREFUSED; recreating it in 100 ms');
    await jest.advanceTimersByTimeAsync(99);
    expect(consumer.clients).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(consumer.clients).toHaveLength(2);
    await jest.advanceTimersByTimeAsync(200 + 400);
    expect(consumer.clients).toHaveLength(4);
    expect(consumer.clients.map((client) => client.retired)).toEqual([true, true, true, false]);
    expect(lines).toEqual([
      'warn recreating the test consumer in 100 ms (starting failed: ECONNREFUSED)',
      'log recreating the test consumer; it rejoins its group as a new member',
      'warn recreating the test consumer in 200 ms (starting failed: ECONNREFUSED)',
      'log recreating the test consumer; it rejoins its group as a new member',
      'warn recreating the test consumer in 400 ms (starting failed: ECONNREFUSED)',
      'log recreating the test consumer; it rejoins its group as a new member',
    ]);
    // The failed consumer is retired before its replacement is launched.
    expect(consumer.calls.filter((call) => /^(launch|retire)/.test(call))).toEqual([
      'launch 0',
      'retire 0',
      'launch 1',
      'retire 1',
      'launch 2',
      'retire 2',
      'launch 3',
    ]);

    consumer.consume('m1', { t: [0] });
    expect(consumer.status().consuming).toBe(true);
    consumer.crash('heartbeat failed');
    expect(consumer.status()).toEqual({
      consuming: false,
      reason: 'test consumer: heartbeat failed; recreating it in 100 ms',
      assignment: {},
    });
    await consumer.stop();
  });

  it('schedules one recreation at a time, and ignores the consumer it replaced', async () => {
    jest.useFakeTimers();
    const { consumer, lines } = create();
    consumer.start();
    await jest.advanceTimersByTimeAsync(0);
    const first = consumer.clients[0];
    consumer.consume('m1', { t: [0] });
    consumer.crash('heartbeat failed');
    consumer.crash('again');
    expect(lines).toEqual(['warn recreating the test consumer in 100 ms (heartbeat failed)']);
    await jest.advanceTimersByTimeAsync(100);
    expect(consumer.clients).toHaveLength(2);
    const before = { status: consumer.status(), calls: [...consumer.calls] };
    consumer.join('m1', { t: [0] }, first);
    consumer.crash('late', first);
    expect({ status: consumer.status(), calls: consumer.calls }).toEqual(before);
    expect(lines).toHaveLength(2);
    consumer.consume('m2', { t: [0] });
    expect(consumer.status().consuming).toBe(true);
    await consumer.stop();
  });

  it('recreates neither a consumer that was replaced nor one that failed after stop', async () => {
    jest.useFakeTimers();
    const { consumer, lines } = create();
    consumer.start();
    const [first] = consumer.clients;
    if (!first) throw new Error('no consumer launched');
    consumer.crash('heartbeat failed');
    await jest.advanceTimersByTimeAsync(100);
    consumer.reportFailure(first, 'late');
    await consumer.stop();
    const [, second] = consumer.clients;
    if (!second) throw new Error('no consumer recreated');
    consumer.reportFailure(second, 'after stop');
    await jest.advanceTimersByTimeAsync(1_000);
    expect(consumer.clients).toHaveLength(2);
    expect(lines.filter((line) => line.startsWith('warn'))).toEqual([
      'warn recreating the test consumer in 100 ms (heartbeat failed)',
    ]);
  });

  it('stops once: the member leaves, no recreation follows, and start is refused or ignored', async () => {
    jest.useFakeTimers();
    const { consumer } = create();
    consumer.start();
    expect(() => consumer.start()).toThrow('test consumer was already started');
    await jest.advanceTimersByTimeAsync(0);
    consumer.consume('m1', { t: [0] });
    consumer.crash('heartbeat failed');
    const stopping = consumer.stop();
    expect(consumer.stop()).toBe(stopping);
    await stopping;
    await jest.advanceTimersByTimeAsync(1_000);
    expect(consumer.clients).toHaveLength(1);
    expect(consumer.calls.slice(-2)).toEqual(['halt', 'leave 0']);
    expect(consumer.status()).toEqual({ consuming: false, reason: 'test consumer is stopped', assignment: {} });
    consumer.start();
    expect(consumer.clients).toHaveLength(1);
  });

  it('tells onLeave "stopped" when stopped as a member, halts before anything is awaited, then leaves', async () => {
    const { consumer } = create();
    consumer.start();
    await flush();
    consumer.consume('m1', { t: [0] });
    const stopping = consumer.stop();
    expect(consumer.calls.slice(-3)).toEqual(['membership lost', 'onLeave stopped', 'halt']);
    await stopping;
    expect(consumer.calls.slice(-1)).toEqual(['leave 0']);
    expect(consumer.clients[0]?.left).toBe(true);
  });

  it('stays down when started after stop (a SIGTERM during start-up)', async () => {
    const { consumer } = create();
    await consumer.stop();
    consumer.start();
    await flush();
    expect(consumer.clients).toHaveLength(0);
    expect(consumer.calls).toEqual(['halt', 'leave none']);
    expect(consumer.status()).toEqual({ consuming: false, reason: 'test consumer is stopped', assignment: {} });
  });
});

describe('ConsumerLifecycle: removing its own abandoned members', () => {
  const settings: KafkaSettings = { brokers: ['127.0.0.1:9'], clientId: 'test' };
  let calls: string[];

  beforeEach(() => {
    calls = [];
    // The remover's own behaviour (admin client, retries) is tested against real brokers; here only what it is told.
    jest.spyOn(StaleMemberRemover.prototype, 'remove').mockImplementation((groupId, memberId) => {
      calls.push(`remove ${groupId}/${memberId}`);
    });
    jest.spyOn(StaleMemberRemover.prototype, 'joined').mockImplementation((memberId) => {
      calls.push(`joined ${memberId}`);
    });
    jest.spyOn(StaleMemberRemover.prototype, 'stop').mockImplementation(async () => {
      calls.push('stop');
    });
  });

  afterEach(() => jest.restoreAllMocks());

  it('removes the membership a crash abandoned, once, and stops removing before the member leaves', async () => {
    jest.useFakeTimers();
    const { consumer } = create({}, settings);
    consumer.calls = calls;
    consumer.start();
    consumer.join('m1', { t: [0] });
    // Another member joining: the rejoin keeps the member id, nothing is abandoned.
    consumer.rebalance();
    consumer.join('m1', { t: [0] });
    consumer.crash('heartbeat failed');
    await jest.advanceTimersByTimeAsync(100);
    // The replacement failing before any join abandons nothing new.
    consumer.crash('again');
    consumer.join('m2', { t: [0] });
    await consumer.stop();
    expect(calls.filter((call) => /^(joined|remove|stop|halt|leave)/.test(call))).toEqual([
      'joined m1',
      'joined m1',
      'remove g/m1',
      'joined m2',
      'halt',
      'stop',
      'leave 1',
    ]);
    jest.useRealTimers();
  });

  it('removes nothing without the settings of a client made by createKafka', async () => {
    const { consumer } = create();
    consumer.start();
    await flush();
    consumer.join('m1', { t: [0] });
    consumer.crash('heartbeat failed');
    await consumer.stop();
    expect(calls).toEqual([]);
  });
});
