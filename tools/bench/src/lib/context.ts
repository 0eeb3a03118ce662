import { randomBytes } from 'node:crypto';
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
  /** latency: split each message's latency per hop (see lib/hops.ts). */
  hops?: boolean;
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
