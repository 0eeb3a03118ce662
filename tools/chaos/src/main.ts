/**
 * Seqcast chaos suite: starts its own stack (PostgreSQL, Kafka, the three built services), runs
 * scenarios under load with one fault each, checks the recorded history and prints a table.
 *
 *   npm run chaos -- list
 *   npm run chaos -- <scenario> [<scenario> ...] | all | short
 *       [--rate 200] [--rooms 20] [--fault-at 10] [--after 15] [--settle 60] [--timeout 1800] [--ports 36000-36299]
 *
 * `short` is the CI variant (two scenarios on one stack, light load). Exit code 0 only if every
 * scenario ran and its history checked clean. Everything it starts is stopped on exit, error or Ctrl-C.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { now } from './lib/clock';
import { type LoadOptions, runScenario, type ScenarioResult } from './lib/runner';
import { SCENARIOS, type Scenario, SHORT_SET } from './lib/scenarios';
import { Cleanup } from './lib/stack/cleanup';
import { startStack } from './lib/stack/stack';

const workspaceRoot = resolve(__dirname, '../../..');
const t0 = now();
const log = (line: string) => console.error(`[chaos +${((now() - t0) / 1000).toFixed(1)}s] ${line}`);

function usage(): never {
  console.error('usage: npm run chaos -- list | all | short | <scenario> [...] [--rate N] [--rooms N] [--fault-at S] [--after S] [--settle S] [--timeout S] [--ports FROM-TO]');
  process.exit(2);
}

function pickScenarios(names: string[]): Scenario[] {
  if (names.includes('all')) return SCENARIOS;
  const wanted = names.includes('short') ? SHORT_SET : names;
  return wanted.map((name) => SCENARIOS.find((s) => s.name === name) ?? (console.error(`chaos: unknown scenario "${name}" (see: npm run chaos -- list)`), usage()));
}

/** No colours: the table ends up in CI logs and docs. */
const PLAIN = { head: [], border: [] };

const s = (ms: number) => (ms / 1000).toFixed(1);

function table(results: ScenarioResult[]): string {
  const t = new Table({
    style: PLAIN,
    head: ['scenario', 'acked / attempted', 'lost', 'dup', 'reorder', 'seq≠', 'phantom', 'publish unavail. (s)', 'delivery stall (s)', 'p50 / p99 (ms)', 'result'],
  });
  for (const r of results) {
    const rep = r.report;
    if (!rep) {
      t.push([r.scenario.name, { colSpan: 9, content: r.error ?? 'no report' }, 'ERROR']);
      continue;
    }
    const maxOf = (windows: { ms: number }[]) => (windows.length ? s(Math.max(...windows.map((w) => w.ms))) : '0');
    t.push([
      r.scenario.name,
      `${rep.acknowledged} / ${rep.attemptedMessages}`,
      rep.lost.length,
      rep.duplicates.length,
      rep.reorders.length,
      rep.seqDisagreements.length,
      rep.phantoms.length,
      maxOf(rep.unavailability),
      maxOf(rep.stalls),
      `${rep.latency.p50} / ${rep.latency.p99}`,
      rep.ok && !r.error ? 'ok' : r.error ? 'ERROR' : 'FAIL',
    ]);
  }
  return t.toString();
}

function details(r: ScenarioResult): string[] {
  const lines: string[] = [];
  const rep = r.report;
  const rel = (t: number) => s(t - r.loadStart);
  for (const f of r.faults) lines.push(`  fault at +${rel(f.at)}s${f.until ? `, lifted at +${rel(f.until)}s` : ' (kept)'}: ${f.name}`);
  if (r.error) lines.push(`  error: ${r.error}`);
  if (!rep) return lines;
  for (const w of rep.unavailability) lines.push(`  publish unavailable +${rel(w.from)}s .. +${rel(w.to)}s (${s(w.ms)} s)`);
  const longest = [...rep.stalls].sort((a, b) => b.ms - a.ms).slice(0, 5);
  for (const w of longest) lines.push(`  ${w.who} stalled +${rel(w.from)}s .. +${rel(w.to)}s (${s(w.ms)} s)`);
  if (rep.stalls.length > longest.length) lines.push(`  (${rep.stalls.length - longest.length} shorter stalls over 1 s in results.json)`);
  lines.push(`  publish attempts by outcome: ${JSON.stringify(r.outcomes)}`);
  for (const a of r.answers.slice(0, 5)) lines.push(`  answer: ${a}`);
  for (const [name, l] of Object.entries(rep.latencyWindows)) lines.push(`  latency ${name}: p50 ${l.p50} ms, p99 ${l.p99} ms, max ${l.max} ms (${l.count} deliveries)`);
  lines.push(`  raw redeliveries deduped by the SDK: ${rep.rawDuplicates}; unacknowledged publishes: ${rep.unacknowledged}`);
  const show = <T>(what: string, list: T[]) => list.slice(0, 5).forEach((x) => lines.push(`  ${what}: ${JSON.stringify(x)}`));
  show('lost', rep.lost);
  show('duplicate', rep.duplicates);
  show('reorder', rep.reorders);
  show('seq disagreement', rep.seqDisagreements);
  show('phantom', rep.phantoms);
  return lines;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      rate: { type: 'string' },
      rooms: { type: 'string' },
      'fault-at': { type: 'string' },
      after: { type: 'string' },
      settle: { type: 'string' },
      timeout: { type: 'string' },
      ports: { type: 'string', default: process.env['CHAOS_PORTS'] },
    },
  });
  if (positionals.length === 0) usage();
  if (positionals[0] === 'list') {
    const t = new Table({ style: PLAIN, head: ['scenario', 'brokers', 'what'] });
    for (const sc of SCENARIOS) t.push([sc.name, sc.brokers, sc.description]);
    console.log(t.toString());
    console.log(`short (CI): ${SHORT_SET.join(', ')}`);
    return 0;
  }
  const short = positionals.includes('short');
  const scenarios = pickScenarios(positionals);
  const num = (v: string | undefined, fallback: number) => (v === undefined ? fallback : Number(v));
  const load: LoadOptions = {
    rate: num(values.rate, short ? 60 : 200),
    rooms: num(values.rooms, short ? 6 : 20),
    publishers: 4,
    faultAtMs: num(values['fault-at'], short ? 4 : 10) * 1000,
    afterFaultMs: num(values.after, short ? 6 : 15) * 1000,
    settleMs: num(values.settle, short ? 25 : 60) * 1000,
    stallThresholdMs: 1000,
  };
  const timeoutMs = num(values.timeout, short ? 300 : 3600) * 1000;
  const portRange = /^(\d+)-(\d+)$/.exec(values.ports ?? '');
  if (values.ports && !portRange) usage();
  const ports = portRange ? { from: Number(portRange[1]), to: Number(portRange[2]) } : undefined;

  const cleanup = new Cleanup();
  cleanup.installSignalHandlers();
  const watchdog = setTimeout(() => {
    log(`overall deadline of ${timeoutMs / 1000} s passed; stopping everything`);
    void cleanup.run().finally(() => process.exit(1));
  }, timeoutMs);
  watchdog.unref();

  const results: ScenarioResult[] = [];
  let logDir = join(workspaceRoot, 'tmp/chaos');
  try {
    for (const brokers of [1, 3] as const) {
      const group = scenarios.filter((sc) => sc.brokers === brokers);
      if (group.length === 0) continue;
      const stackCleanup = new Cleanup();
      cleanup.add(`stack with ${brokers} broker(s)`, () => stackCleanup.run());
      try {
        const stack = await startStack({ workspaceRoot, brokers, partitions: 6, ports, log }, stackCleanup);
        logDir = stack.logDir;
        log(`stack ready: ingest ${stack.ingestUrl} (-> ${stack.ingest.url}), gateway ${stack.gatewayUrl} (-> ${stack.gateway.url}; proxy ${stack.gatewayProxyUrl}), worker ${stack.worker.url}`);
        for (const scenario of group) {
          const result = await runScenario(stack, scenario, load, log);
          results.push(result);
          log(`${scenario.name}: ${result.report?.ok && !result.error ? 'ok' : 'FAILED'} after ${s(result.durationMs)} s`);
        }
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        log(`stack with ${brokers} broker(s) failed: ${message}`);
        for (const scenario of group.filter((sc) => !results.some((r) => r.scenario === sc))) {
          results.push({ scenario, faults: [], outcomes: {}, answers: [], loadStart: now(), error: `stack: ${message}`, durationMs: 0 });
        }
      } finally {
        await stackCleanup.run();
      }
    }
  } finally {
    await cleanup.run();
    clearTimeout(watchdog);
  }

  console.log(table(results));
  for (const r of results) {
    console.log(`${r.scenario.name} — ${r.scenario.description}`);
    for (const line of details(r)) console.log(line);
  }
  const json = join(logDir, 'results.json');
  writeFileSync(json, JSON.stringify(results.map(({ history: _history, ...r }) => ({ ...r, scenario: r.scenario.name })), null, 2));
  for (const r of results) if (r.history) writeFileSync(join(logDir, `${r.scenario.name}.history.json`), JSON.stringify(r.history));
  const passed = results.filter((r) => r.report?.ok && !r.error).length;
  console.log(`full results: ${json}`);
  console.log(`chaos: ${passed} passed, ${results.length - passed} failed`);
  return passed === results.length ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
