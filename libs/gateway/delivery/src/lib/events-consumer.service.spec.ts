import type { Message } from '@seqcast/contracts';
import type { EachBatchPayload, Kafka } from '@seqcast/kafka';
import { EVENTS_COMMIT_INTERVAL_MS, EventsConsumerService } from './events-consumer.service';
import type { SubscriptionService } from './subscription.service';
import { message } from '../testing/test-support';

/** The kafkajs consumer as ResilientConsumer drives it; records the run config it is given. */
function fakeKafka() {
  const runs: Record<string, unknown>[] = [];
  const consumer = {
    events: {
      GROUP_JOIN: 'join',
      FETCH: 'fetch',
      FETCH_START: 'fetch_start',
      HEARTBEAT: 'hb',
      REBALANCING: 'reb',
      STOP: 'stop',
      CRASH: 'crash',
    },
    on: () => () => undefined,
    connect: async () => undefined,
    subscribe: async () => undefined,
    run: async (config: Record<string, unknown>) => {
      runs.push(config);
    },
    disconnect: async () => undefined,
  };
  return { kafka: { consumer: () => consumer } as unknown as Kafka, runs };
}

function payload(commitOffsetsIfNecessary: () => Promise<void>, offset = 0): EachBatchPayload {
  const value = Buffer.from(JSON.stringify(message('room-a', offset, offset === 0 ? null : offset - 1)));
  return {
    batch: {
      topic: 'events',
      partition: 0,
      messages: [{ offset: String(offset), value, timestamp: String(Date.now()) }],
      offsetLag: () => '0',
    },
    heartbeat: async () => undefined,
    isRunning: () => true,
    isStale: () => false,
    commitOffsetsIfNecessary,
  } as unknown as EachBatchPayload;
}

describe('EventsConsumerService', () => {
  const dispatched: [string, number[]][] = [];
  const subscriptions = {
    dispatch: (roomId: string, messages: readonly Message[]) => dispatched.push([roomId, messages.map((m) => m.seq)]),
  } as unknown as SubscriptionService;
  let service: EventsConsumerService;
  let runs: Record<string, unknown>[];

  beforeEach(() => {
    dispatched.length = 0;
    const fake = fakeKafka();
    runs = fake.runs;
    service = new EventsConsumerService(fake.kafka, { eventsTopic: 'events', groupId: 'gw-test' }, subscriptions);
  });

  afterEach(async () => {
    await service.onApplicationShutdown();
  });

  const handle = (p: EachBatchPayload) =>
    (service as unknown as { handleBatch(p: EachBatchPayload): Promise<void> }).handleBatch(p);

  it("runs without kafkajs' per-batch auto-commit, committing on its own interval instead", async () => {
    service.onApplicationBootstrap();
    await new Promise((resolve) => setImmediate(resolve));
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ autoCommit: false, autoCommitInterval: EVENTS_COMMIT_INTERVAL_MS });
  });

  it('hands a batch to the fan-out without waiting for an offset commit, and keeps one commit in flight at most', async () => {
    let commits = 0;
    let finishCommit: () => void = () => undefined;
    const commit = () => {
      commits++;
      return new Promise<void>((resolve) => (finishCommit = resolve));
    };

    await handle(payload(commit, 0)); // resolves although the commit has not finished
    await handle(payload(commit, 1));
    expect(dispatched).toEqual([
      ['room-a', [0]],
      ['room-a', [1]],
    ]);
    expect(commits).toBe(1);

    finishCommit();
    await new Promise((resolve) => setImmediate(resolve));
    await handle(payload(commit, 2));
    expect(commits).toBe(2);
  });

  it('a failed commit does not fail the batch, and the next batch tries again', async () => {
    let commits = 0;
    const failing = () => {
      commits++;
      return Promise.reject(new Error('REBALANCE_IN_PROGRESS'));
    };
    const warn = jest
      .spyOn((service as unknown as { logger: { warn(m: string): void } }).logger, 'warn')
      .mockImplementation(() => undefined);

    await expect(handle(payload(failing, 0))).resolves.toBeUndefined();
    await new Promise((resolve) => setImmediate(resolve));
    await handle(payload(failing, 1));
    await new Promise((resolve) => setImmediate(resolve));
    expect(commits).toBe(2);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('committing offsets failed'));
  });
});
