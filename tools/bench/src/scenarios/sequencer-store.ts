import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { BenchOptions, ScenarioResult } from '../lib/context';
import { workspaceRoot } from '../lib/processes';
import { median } from '../lib/stats';

/** The ordering lib's own tool (libs/ordering/data-access/tools/store-bench.ts); run, not imported, across the lib boundary. */
const STORE_BENCH = join(workspaceRoot, 'libs/ordering/data-access/tools/store-bench.ts');
const REGISTER = join(workspaceRoot, 'tools/bench/register.cjs');

/** One case of the tool's --json output (see StoreCase there). */
interface StoreCase {
  lanes: number;
  batchSize: number;
  commits: number;
  commitsPerSecond: number;
  messagesPerSecond: number;
  p50: number;
  p99: number;
  mean: number;
  readP50: number;
  readP50Last: number;
  writeP50: number;
  nodeCpuMsPerCommit: number;
  serverCpuMsPerCommit: number;
  poolWaitShare: number;
  waits: Record<string, number>;
}

/**
 * The ordering worker's batch transaction alone (PostgresSequencerStore.commitBatch, no Kafka, no
 * services): 1 and 12 partition lanes committing batches of 1 and 10 back to back on a throw-away
 * database opened as the worker opens it. Each repetition is a fresh database; medians reported.
 */
export async function sequencerStore(options: BenchOptions): Promise<ScenarioResult> {
  const seconds = options.seconds ?? (options.smoke ? 1 : 3);
  const runs: StoreCase[][] = [];
  for (let rep = 1; rep <= options.reps; rep++) {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['-r', REGISTER, STORE_BENCH, '--json', '--seconds', String(seconds), '--lanes', '1,12', '--batches', '1,10'],
      { cwd: workspaceRoot, maxBuffer: 16 * 1024 * 1024 },
    );
    runs.push(JSON.parse(stdout.trim().split('\n').pop() ?? '[]') as StoreCase[]);
  }
  const cases = runs[0] ?? [];
  const rows = cases.map((c, i) => {
    const of = runs.map((r) => r[i]);
    const m = (f: (s: StoreCase) => number) => median(of.map(f));
    const waits = Object.entries(of[of.length - 1].waits)
      .slice(0, 3)
      .map(([w, share]) => `${w} ${share}%`)
      .join(', ');
    return [c.lanes, c.batchSize, m((s) => s.commitsPerSecond), m((s) => s.p50), m((s) => s.p99), m((s) => s.readP50), m((s) => s.writeP50), m((s) => s.nodeCpuMsPerCommit), m((s) => s.serverCpuMsPerCommit), waits];
  });
  return {
    title: `PostgresSequencerStore.commitBatch alone, ${seconds} s per case, median of ${options.reps}`,
    table: { columns: ['lanes', 'batch', 'commits/s', 'commit p50 ms', 'p99', 'read p50', 'write p50', 'node CPU ms/commit', 'server CPU ms/commit', 'backends (last run)'], rows },
    notes: ['read/write p50: the two statements as node-postgres times them (no pool wait); server CPU: the database backends from /proc (NaN when the server is not local); backends: pg_stat_activity wait events, % of samples'],
    series: [],
    bars: {
      unit: 'commit p50 ms',
      values: cases.map((c, i) => ({ group: `${c.lanes} lane${c.lanes > 1 ? 's' : ''}`, label: `batch ${c.batchSize}`, value: Number(rows[i][3]) })),
    },
    data: { seconds, runs },
  };
}
