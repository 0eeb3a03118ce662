/**
 * `npm run bench -- <scenario|all> [options]`: runs a scenario against the built services
 * (`npm run build`) and its same-run baseline, prints a table, writes <scenario>.json and
 * <scenario>.svg under docs/benchmarks/ (a temp dir with --smoke, which runs every scenario with
 * tiny numbers to prove the scripts still work; no figure is asserted).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fixKafkajsRequestQueue } from '@seqcast/kafka';
import { writeChart } from './lib/chart';
import type { BenchOptions, ScenarioResult } from './lib/context';
import { killAllChildren, workspaceRoot } from './lib/processes';
import { formatTable, writeReport } from './lib/report';
import { fanout } from './scenarios/fanout';
import { idle } from './scenarios/idle';
import { latency } from './scenarios/latency';
import { peer } from './scenarios/peer';
import { produce } from './scenarios/produce';
import { sequencerStore } from './scenarios/sequencer-store';
import { storm } from './scenarios/storm';
import { throughput } from './scenarios/throughput';

const SCENARIOS: Record<string, (options: BenchOptions) => Promise<ScenarioResult>> = {
  latency: (o) => latency(o),
  throughput,
  fanout,
  storm: (o) => storm(o),
  idle,
  peer,
  produce,
  'sequencer-store': sequencerStore,
};

const USAGE = `usage: npm run bench -- <${Object.keys(SCENARIOS).join('|')}|all> [options]
  --smoke              every number tiny, output to a temp dir (CI: the scripts still work)
  --reps N             repetitions, medians reported (default 3; 1 with --smoke)
  --seconds S          seconds per offered rate (latency, fanout) or per case (sequencer-store)
  --rates a,b,c        offered msg/s (latency: default 100,1000,3000; produce: 300,1000,3000;
                       storm: the first, default 100)
  --sockets N          fanout sockets in one room (default 2000)
  --clients N          storm clients (default 2000)
  --rooms N            rooms (latency 50, idle 500, storm 10)
  --messages N         throughput messages (default 50000)
  --out DIR            where JSON and SVG go (default docs/benchmarks)
  --redis URL          the peer's Redis (default redis://127.0.0.1:6379)
  --via http|socket    latency: publish over HTTP to ingest-api (default) or with the gateway's
                       socket publish event (report latency-socket.json/svg)
  --heap-snapshots DIR idle: a V8 heap snapshot of each server at both samples (before/after),
                       written to DIR as <system>-rep<N>-<before|after>.heapsnapshot (they pause
                       the server while written; diff them with tools/bench/heap-diff.cjs)
  --hops               latency: also split each message's latency per hop (HTTP, produce queue,
                       worker, gateway) from the topics' timestamps, with the HTTP hop's harness part
                       (send: scheduled → request written) and each process's event-loop delay and GC
                       pauses; throughput: when each stage (ingested, sequenced, delivered) had
                       passed 10/50/90/100 % of the messages
  env BENCH_SERVICE_NODE_OPTIONS  node flags for the services (on their command line, so V8 flags NODE_OPTIONS
                                  refuses work too), e.g. "--cpu-prof --cpu-prof-dir=tmp/prof"
  env BENCH_PUBLISH_SOCKETS       connections the HTTP publisher may open (default 256); a request finding
                                  them all busy waits in the publisher (the --hops notes' send lag)
  env BENCH_WARM_CONNECTIONS=0    latency: do not open the publisher's connections before each rate step`;

function parse(): { scenarios: string[]; options: BenchOptions; out: string } {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      smoke: { type: 'boolean', default: false },
      hops: { type: 'boolean', default: false },
      via: { type: 'string', default: 'http' },
      reps: { type: 'string' },
      seconds: { type: 'string' },
      rates: { type: 'string' },
      sockets: { type: 'string' },
      clients: { type: 'string' },
      rooms: { type: 'string' },
      messages: { type: 'string' },
      out: { type: 'string' },
      'heap-snapshots': { type: 'string' },
      redis: { type: 'string', default: 'redis://127.0.0.1:6379' },
      help: { type: 'boolean', default: false },
    },
  });
  const name = positionals[0];
  if (values.help || !name || (name !== 'all' && !SCENARIOS[name])) {
    console.error(USAGE);
    process.exit(values.help ? 0 : 2);
  }
  const int = (v: string | undefined) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) {
      console.error(`bench: expected a positive integer, got "${v}"\n${USAGE}`);
      process.exit(2);
    }
    return n;
  };
  const smoke = values.smoke ?? false;
  if (values.via !== 'http' && values.via !== 'socket') {
    console.error(`bench: --via takes http or socket, got "${values.via}"\n${USAGE}`);
    process.exit(2);
  }
  return {
    scenarios: name === 'all' ? Object.keys(SCENARIOS) : [name],
    out: values.out ?? (smoke ? mkdtempSync(join(tmpdir(), 'seqcast-bench-')) : join(workspaceRoot, 'docs/benchmarks')),
    options: {
      smoke,
      reps: int(values.reps) ?? (smoke ? 1 : 3),
      seconds: int(values.seconds),
      rates: values.rates?.split(',').map((r) => int(r.trim()) as number),
      sockets: int(values.sockets),
      clients: int(values.clients),
      rooms: int(values.rooms),
      messages: int(values.messages),
      redisUrl: values.redis ?? 'redis://127.0.0.1:6379',
      hops: values.hops ?? false,
      via: values.via,
      heapSnapshots: values['heap-snapshots'] === undefined ? undefined : resolve(values['heap-snapshots']),
    },
  };
}

function commit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: workspaceRoot, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const { scenarios, options, out } = parse();
  // The services run kafkajs with this fix (@seqcast/kafka); the bench's own kafkajs clients (the raw
  // kafkajs baseline, the topic readers) get it too, so the baseline is not slowed by kafkajs' 1 kHz
  // timer per connection that Seqcast no longer has.
  fixKafkajsRequestQueue();
  let passed = 0;
  let failed = 0;
  for (const scenario of scenarios) {
    const started = performance.now();
    try {
      const result = await SCENARIOS[scenario](options);
      // A socket-publish latency run is reported beside the HTTP one, not over it.
      const report = scenario === 'latency' && options.via === 'socket' ? 'latency-socket' : scenario;
      const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`;
      const json = writeReport(out, {
        scenario: report,
        command,
        date: new Date().toISOString(),
        commit: commit(),
        smoke: options.smoke,
        result: { title: result.title, notes: result.notes, ...(result.data as object) },
        table: result.table,
      });
      const svg = join(out, `${report}.svg`);
      await writeChart(svg, result.title, result);
      console.log(`\n## ${scenario}: ${result.title}\n\n${formatTable(result.table.columns, result.table.rows)}\n`);
      for (const note of result.notes) console.log(note);
      console.log(`(${((performance.now() - started) / 1000).toFixed(1)} s; ${json}, ${svg})`);
      passed++;
    } catch (error) {
      console.error(`bench ${scenario} failed: ${(error as Error).stack ?? error}`);
      failed++;
    }
  }
  if (options.smoke) console.log(`bench-smoke: ${passed} passed, ${failed} failed`);
  killAllChildren();
  process.exit(failed > 0 ? 1 : 0);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killAllChildren();
    process.exit(130);
  });
}

main().catch((error: Error) => {
  console.error(`bench: ${error.message}`);
  killAllChildren();
  process.exit(1);
});
