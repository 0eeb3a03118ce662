import { randomBytes } from 'node:crypto';
import type { Admin } from 'kafkajs';
import type { Bar, CdfSeries } from './chart';
import type { Cell } from './report';

export interface BenchOptions {
  smoke: boolean;
  reps: number;
  /** Seconds each offered rate runs (latency, fanout). */
  seconds?: number;
  rates?: number[];
  sockets?: number;
  clients?: number;
  rooms?: number;
  messages?: number;
  redisUrl: string;
  /** latency: split each message's latency per hop; throughput: each stage's timeline (see lib/hops.ts). */
  hops?: boolean;
  /** latency: publish over HTTP to ingest-api (default) or with the gateway's socket `publish` event. */
  via?: 'http' | 'socket';
  /** idle: write a V8 heap snapshot of each server at both samples into this directory. */
  heapSnapshots?: string;
}

export interface ScenarioResult {
  title: string;
  table: { columns: string[]; rows: Cell[][] };
  /** Extra lines printed under the table (ratios, notes). */
  notes: string[];
  series: CdfSeries[];
  /** Instead of the CDF, a bar chart (scenarios without a latency distribution). */
  bars?: { unit: string; values: Bar[] };
  data: unknown;
}

/** Room names the bench token may use, unique per run so reruns never read old history. */
export function benchRooms(count: number, prefix = 'bench'): string[] {
  const run = randomBytes(3).toString('hex');
  return Array.from({ length: count }, (_, i) => `${prefix}-${run}-r${i}`);
}

export const runId = () => randomBytes(4).toString('hex');

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `done` or the deadline; returns whether it got there. */
export async function pollUntil(done: () => Promise<boolean>, timeoutMs: number, intervalMs = 250): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await done()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(intervalMs);
  }
}

/**
 * A fresh topic for a baseline, usable once every partition's leader answers. kafkajs'
 * `waitForLeaders` gives up when a broker briefly answers "does not host this topic-partition" for
 * a topic it has just created (seen with Kafka 4.4 on a busy broker), so this polls instead.
 */
export async function createBenchTopic(admin: Admin, topic: string, partitions: number): Promise<void> {
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: false });
  const ready = await pollUntil(async () => {
    const offsets = await admin.fetchTopicOffsets(topic).catch(() => []);
    return offsets.length === partitions;
  }, 30_000, 200);
  if (!ready) throw new Error(`topic ${topic}: not every partition had a leader within 30 s`);
}
