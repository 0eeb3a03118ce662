/**
 * KAFKA_CLIENT=platformatic on a real broker: RoomProducer over @platformatic/kafka returns exact
 * offsets on the room's partition, and PlatformaticConsumer (made by createResilientConsumer)
 * joins, delivers each partition's batches in offset order with kafkajs' payload fields, pauses,
 * resumes and seeks single partitions, lets one slow partition hold only itself, asks its broker for
 * every partition in one fetch (and for a partition's next records while its batch is handled),
 * re-fetches what a handler left unresolved, commits, shares partitions with a second member after
 * a rebalance, and leaves the group on stop.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { waitFor } from '@seqcast/testing';
import type { Admin, EachBatchPayload } from 'kafkajs';
import { createKafka } from './kafka-client';
import { ResilientConsumer } from './resilient-consumer';
import { createResilientConsumer, type GroupConsumer } from './group-consumer';
import { PlatformaticConsumer } from './platformatic-consumer';
import { brokers, uniqueName } from '../testing';
import { RoomProducer } from './room-producer';
import { ensureTopics } from './topics';
import type { ResilientConsumerOptions } from './consumer-lifecycle';

const PARTITIONS = 3;
/** @platformatic/kafka's tracing channel: one message per fetch request, with its options. */
const FETCH_STARTS = 'tracing:plt:kafka:consumer:fetches:start';

interface Seen {
  partition: number;
  offset: number;
  value: string;
}

/** A promise a handler waits on (`held`), and what lets it go (`release`). */
function gate(): { held: Promise<void>; release: () => void } {
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  return { held, release };
}

async function startConsuming(c: GroupConsumer): Promise<void> {
  c.start();
  await waitFor(() => c.status().consuming, { timeoutMs: 30_000, what: 'the consumer to consume' });
}

describe('KAFKA_CLIENT=platformatic (real broker)', () => {
  const kafka = createKafka({ brokers: brokers(), clientId: 'kafka-lib-int-platformatic', client: 'platformatic' });
  const topic = uniqueName();
  const logs: string[] = [];
  const logger = { log: (line: string) => logs.push(line), warn: (line: string) => logs.push(line) };
  let admin: Admin;
  let producer: RoomProducer;
  const consumers: GroupConsumer[] = [];

  function consumer(
    groupId: string,
    run: ResilientConsumerOptions['run'],
    extra: Partial<ResilientConsumerOptions> = {},
  ): GroupConsumer {
    const made = createResilientConsumer(kafka, {
      name: 'test consumer',
      consumer: { groupId, maxWaitTimeInMs: 500 },
      subscribe: { topics: [topic], fromBeginning: true },
      run,
      logger,
      ...extra,
    });
    consumers.push(made);
    return made;
  }

  /** Sends `count` values to `partition`; returns their offsets. */
  async function sendTo(partition: number, values: string[]): Promise<number[]> {
    const produced = await producer.sendToPartition(
      topic,
      partition,
      values.map((value) => ({ roomId: `room-${partition}`, value })),
    );
    return produced.map(({ offset }) => offset);
  }

  beforeAll(async () => {
    await ensureTopics(kafka, [{ name: topic, partitions: PARTITIONS }]);
    admin = kafka.admin();
    await admin.connect();
    producer = new RoomProducer(kafka, { partitions: PARTITIONS });
    await producer.connect();
  });

  afterAll(async () => {
    await Promise.all(consumers.map((c) => c.stop()));
    await producer.disconnect();
    await admin.deleteTopics({ topics: [topic] });
    await admin.disconnect();
  });

  it('produces on the room partition with exact, contiguous offsets', async () => {
    const first = await producer.send(topic, [
      { roomId: 'lobby', value: 'a' },
      { roomId: 'lobby', value: 'b' },
    ]);
    expect(first[1].offset).toBe(first[0].offset + 1);
    const ends = await admin.fetchTopicOffsets(topic);
    const end = ends.find(({ partition }) => partition === first[0].partition);
    expect(Number(end?.high)).toBe(first[1].offset + 1);
  });

  it('creates a PlatformaticConsumer for a platformatic client', () => {
    const made = consumer(uniqueName('g'), { eachBatch: async () => undefined });
    expect(made).toBeInstanceOf(PlatformaticConsumer);
  });

  it('consumes every partition in offset order, pauses, seeks and resumes one partition, commits', async () => {
    const groupId = uniqueName('g');
    const seen: Seen[] = [];
    const payloads: EachBatchPayload[] = [];
    const c = consumer(groupId, {
      eachBatch: async (payload) => {
        payloads.push(payload);
        for (const message of payload.batch.messages) {
          seen.push({
            partition: payload.batch.partition,
            offset: Number(message.offset),
            value: String(message.value),
          });
        }
      },
    });
    c.start();
    expect(c.status().consuming).toBe(false);
    await waitFor(() => c.status().consuming, { timeoutMs: 30_000, what: 'the consumer to consume' });
    expect(c.status().assignment).toEqual({ [topic]: [0, 1, 2] });

    const offsets0 = await sendTo(0, ['p0-1', 'p0-2', 'p0-3']);
    await sendTo(1, ['p1-1']);
    await waitFor(() => seen.some((s) => s.value === 'p0-3') && seen.some((s) => s.value === 'p1-1'), {
      timeoutMs: 15_000,
      what: 'the first records',
    });
    const p0 = seen.filter((s) => s.partition === 0 && s.value.startsWith('p0-')).map((s) => s.offset);
    expect(p0).toEqual(offsets0);
    const last = payloads[payloads.length - 1];
    expect(last.batch.topic).toBe(topic);
    expect(typeof last.batch.highWatermark).toBe('string');
    expect(Number(last.batch.offsetLag())).toBeGreaterThanOrEqual(0);
    expect(last.isRunning()).toBe(true);

    // Paused: partition 0 is not fetched while partition 1 still is.
    c.pause([{ topic, partitions: [0] }]);
    await sendTo(0, ['p0-paused']);
    await sendTo(1, ['p1-2']);
    await waitFor(() => seen.some((s) => s.value === 'p1-2'), {
      timeoutMs: 15_000,
      what: 'partition 1 while 0 is paused',
    });
    expect(seen.some((s) => s.value === 'p0-paused')).toBe(false);

    // Seek back to the first record of partition 0, then resume: it is delivered again, in order.
    c.seek({ topic, partition: 0, offset: String(offsets0[0]) });
    const before = seen.length;
    c.resume([{ topic, partitions: [0] }]);
    await waitFor(() => seen.slice(before).some((s) => s.value === 'p0-paused'), {
      timeoutMs: 15_000,
      what: 'partition 0 after resume',
    });
    expect(
      seen
        .slice(before)
        .filter((s) => s.partition === 0)
        .map((s) => s.value),
    ).toEqual(['p0-1', 'p0-2', 'p0-3', 'p0-paused']);

    // Auto-commit: the group's committed offset reaches the end of partition 0.
    await waitFor(
      async () => {
        const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
        const entry = committed[0]?.partitions.find((p) => p.partition === 0);
        return Number(entry?.offset) === offsets0[0] + 4;
      },
      { timeoutMs: 15_000, what: 'the committed offset of partition 0' },
    );
  }, 60_000);

  it('lets a slow partition hold only itself', async () => {
    const groupId = uniqueName('g');
    const seen: string[] = [];
    const { held: slowDone, release: releaseSlow } = gate();
    const c = consumer(
      groupId,
      {
        partitionsConsumedConcurrently: PARTITIONS,
        eachBatch: async ({ batch }) => {
          const values = batch.messages.map((m) => String(m.value));
          if (values.includes('slow')) await slowDone;
          seen.push(...values);
        },
      },
      { subscribe: { topics: [topic], fromBeginning: false } },
    );
    await startConsuming(c);
    await sendTo(2, ['slow']);
    await sendTo(1, ['fast-1']);
    await waitFor(() => seen.includes('fast-1'), { timeoutMs: 15_000, what: 'partition 1 behind a slow partition 2' });
    await sendTo(1, ['fast-2']);
    await waitFor(() => seen.includes('fast-2'), { timeoutMs: 15_000, what: 'a second batch of partition 1' });
    expect(seen).not.toContain('slow');
    releaseSlow();
    await waitFor(() => seen.includes('slow'), { timeoutMs: 15_000, what: 'the slow batch' });
  }, 60_000);

  it('asks its broker for every partition in one fetch, and for the next records while a batch is handled', async () => {
    const groupId = uniqueName('g');
    // The partitions of each fetch request this group's consumer sends (the library's tracing channel).
    const fetches: number[][] = [];
    const onFetch = (context: unknown) => {
      const { client, options } = context as {
        client?: { groupId?: string };
        options?: { topics?: Array<{ partitions: Array<{ partition: number }> }> };
      };
      if (client?.groupId !== groupId) return;
      fetches.push((options?.topics ?? []).flatMap((t) => t.partitions.map((p) => p.partition)).sort());
    };
    subscribe(FETCH_STARTS, onFetch);
    try {
      const { held, release } = gate();
      const batches: string[][] = [];
      const c = consumer(
        groupId,
        {
          partitionsConsumedConcurrently: PARTITIONS,
          eachBatch: async ({ batch }) => {
            const values = batch.messages.map((m) => String(m.value));
            batches.push(values);
            if (values.includes('hold')) await held;
          },
        },
        { subscribe: { topics: [topic], fromBeginning: false } },
      );
      await startConsuming(c);
      // One broker leads every partition: its fetches ask for all of them at once.
      await waitFor(() => fetches.some((partitions) => partitions.length === PARTITIONS), {
        timeoutMs: 15_000,
        what: `a fetch for all ${PARTITIONS} partitions (seen: ${JSON.stringify(fetches.slice(-5))})`,
      });

      await sendTo(0, ['hold']);
      await waitFor(() => batches.some((values) => values.includes('hold')), { timeoutMs: 15_000, what: 'the held batch' });
      // Partition 0's batch is in its handler; its next records are fetched meanwhile.
      const whileHeld = fetches.length;
      await waitFor(() => fetches.slice(whileHeld).some((partitions) => partitions.includes(0)), {
        timeoutMs: 15_000,
        what: 'a fetch for partition 0 while its batch is handled',
      });
      await sendTo(0, ['next-1', 'next-2']);
      release();
      await waitFor(() => batches.flat().includes('next-2'), { timeoutMs: 15_000, what: 'the records after the held batch' });
      // In order, each once: what was fetched meanwhile follows the held batch.
      expect(batches.flat()).toEqual(['hold', 'next-1', 'next-2']);
    } finally {
      unsubscribe(FETCH_STARTS, onFetch);
    }
  }, 60_000);

  it('fetches the unresolved rest of a batch again, not what was fetched after it', async () => {
    const groupId = uniqueName('g');
    const { held, release } = gate();
    const handed: string[][] = [];
    const c = consumer(
      groupId,
      {
        eachBatchAutoResolve: false,
        autoCommit: false,
        eachBatch: async ({ batch, resolveOffset }) => {
          const values = batch.messages.map((m) => String(m.value));
          handed.push(values);
          if (handed.length === 1) {
            // The first batch: held while 'd' arrives (and is fetched), then only 'a' resolved.
            await held;
            resolveOffset(batch.messages[0].offset);
            return;
          }
          for (const message of batch.messages) resolveOffset(message.offset);
        },
      },
      { subscribe: { topics: [topic], fromBeginning: false } },
    );
    await startConsuming(c);
    await sendTo(1, ['a', 'b', 'c']);
    await waitFor(() => handed.length === 1, { timeoutMs: 15_000, what: 'the first batch' });
    expect(handed[0]).toEqual(['a', 'b', 'c']);
    await sendTo(1, ['d']);
    release();
    await waitFor(() => handed.flat().includes('d'), { timeoutMs: 15_000, what: "the batch after 'a'" });
    // 'b' and 'c' again, then 'd': nothing skipped, nothing twice after what was resolved.
    expect(handed.slice(1).flat()).toEqual(['b', 'c', 'd']);
  }, 60_000);

  it('hands what piled up behind a slow batch over in batches of at most 1 MiB, in order', async () => {
    const groupId = uniqueName('g');
    const { held, release } = gate();
    const batches: Array<{ values: string[]; bytes: number }> = [];
    const c = consumer(
      groupId,
      {
        eachBatch: async ({ batch }) => {
          const values = batch.messages.map((m) => String(m.value).slice(0, 12));
          batches.push({ values, bytes: batch.messages.reduce((sum, m) => sum + (m.value?.length ?? 0) + (m.key?.length ?? 0), 0) });
          if (values.includes('hold')) await held;
        },
      },
      { subscribe: { topics: [topic], fromBeginning: false } },
    );
    await startConsuming(c);
    await sendTo(2, ['hold']);
    await waitFor(() => batches.length === 1, { timeoutMs: 15_000, what: 'the held batch' });
    // 1.5 MB behind the held batch, fetched meanwhile (more than one fetch's 1 MiB per partition).
    const names = Array.from({ length: 15 }, (_, i) => `big-${String(i).padStart(2, '0')}`);
    for (const name of names) await sendTo(2, [name.padEnd(100_000, '.')]);
    release();
    await waitFor(() => batches.flatMap((b) => b.values).includes(names[names.length - 1].padEnd(12, '.')), {
      timeoutMs: 15_000,
      what: 'the last large record',
    });
    expect(batches.flatMap((b) => b.values)).toEqual(['hold', ...names.map((name) => name.padEnd(12, '.'))]);
    for (const { bytes } of batches) expect(bytes).toBeLessThanOrEqual(1_048_576);
  }, 60_000);

  it('re-fetches an unresolved batch (eachBatchAutoResolve: false) and splits partitions with a second member', async () => {
    const groupId = uniqueName('g');
    const attempts = new Map<string, number>();
    const joins: Array<Record<string, number[]>> = [];
    const a = consumer(
      groupId,
      {
        eachBatchAutoResolve: false,
        autoCommit: false,
        eachBatch: async ({ batch, resolveOffset }) => {
          for (const message of batch.messages) {
            const value = String(message.value);
            const n = (attempts.get(value) ?? 0) + 1;
            attempts.set(value, n);
            // The first delivery of "again" is left unresolved: it must come back.
            if (value === 'again' && n === 1) return;
            resolveOffset(message.offset);
          }
        },
      },
      { subscribe: { topics: [topic], fromBeginning: false }, onJoin: (assignment) => joins.push(assignment) },
    );
    a.start();
    await waitFor(() => a.status().consuming, { timeoutMs: 30_000, what: 'the first member to consume' });
    await sendTo(0, ['again']);
    await waitFor(() => (attempts.get('again') ?? 0) >= 2, { timeoutMs: 15_000, what: 'the unresolved batch again' });

    const b = consumer(
      groupId,
      { eachBatch: async () => undefined },
      { subscribe: { topics: [topic], fromBeginning: false } },
    );
    b.start();
    await waitFor(() => a.status().consuming && b.status().consuming, {
      timeoutMs: 30_000,
      what: 'both members to consume',
    });
    const mine = a.status().assignment[topic] ?? [];
    const theirs = b.status().assignment[topic] ?? [];
    expect([...mine, ...theirs].sort()).toEqual([0, 1, 2]);
    expect(mine.length).toBeGreaterThan(0);
    expect(theirs.length).toBeGreaterThan(0);
    expect(joins.length).toBeGreaterThanOrEqual(2);

    await b.stop();
    expect(b.status()).toMatchObject({ consuming: false, reason: 'test consumer is stopped' });
    // LeaveGroup: the remaining member takes everything back at once.
    await waitFor(() => (a.status().assignment[topic] ?? []).length === PARTITIONS && a.status().consuming, {
      timeoutMs: 30_000,
      what: 'the remaining member to own every partition',
    });
  }, 90_000);

  it('shares a group with a kafkajs member (a rolling switch of KAFKA_CLIENT)', async () => {
    const groupId = uniqueName('g');
    const plt = consumer(
      groupId,
      { eachBatch: async () => undefined },
      { subscribe: { topics: [topic], fromBeginning: false } },
    );
    plt.start();
    await waitFor(() => plt.status().consuming, { timeoutMs: 30_000, what: 'the platformatic member to consume' });
    const kafkajsClient = createKafka({ brokers: brokers(), clientId: 'kafka-lib-int-kafkajs-member' });
    const kjs = new ResilientConsumer(kafkajsClient, {
      name: 'kafkajs member',
      consumer: { groupId, maxWaitTimeInMs: 500 },
      subscribe: { topics: [topic], fromBeginning: false },
      run: { eachBatch: async () => undefined },
      logger,
    });
    consumers.push(kjs);
    kjs.start();
    await waitFor(() => plt.status().consuming && kjs.status().consuming, {
      timeoutMs: 30_000,
      what: 'both members to consume',
    });
    const split = [...(plt.status().assignment[topic] ?? []), ...(kjs.status().assignment[topic] ?? [])].sort();
    expect(split).toEqual([0, 1, 2]);
    expect(plt.status().assignment[topic]?.length).toBeGreaterThan(0);
    expect(kjs.status().assignment[topic]?.length).toBeGreaterThan(0);
  }, 90_000);
});
