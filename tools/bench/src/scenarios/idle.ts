import { mkdirSync, readdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '@seqcast/testing';
import { ClientPool } from '../lib/client-pool';
import { type BenchOptions, benchRooms, sleep, type ScenarioResult } from '../lib/context';
import { type BenchProcess, ServiceProcess } from '../lib/processes';
import { rssBytes } from '../lib/proc';
import { startSeqcast } from '../lib/stack';
import { median } from '../lib/stats';
import { startRaw } from './peer-servers';

/** Lets sockets settle (handshakes, subscriptions, first heartbeats) before a memory sample. */
const SETTLE_MS = 5_000;
const SMOKE_SETTLE_MS = 500;

interface Memory {
  rss: number;
  /** V8 heap in use (live objects and garbage not yet collected). */
  heap: number;
  /** V8 heap committed (what of the RSS the heap accounts for) and memory outside it. */
  heapTotal: number;
  external: number;
  /** Per V8 space: committed and used bytes. */
  spaces: Record<string, { size: number; used: number }>;
}

interface IdleRun {
  system: string;
  rep: number;
  rssPerSocket: number;
  heapPerSocket: number;
  /** The same over the second half of the sockets only (after − mid): see `idle` below. */
  rssPerSocketSecondHalf: number;
  heapPerSocketSecondHalf: number;
  before: Memory;
  mid: Memory;
  after: Memory;
}

type HeapReading = Omit<Memory, 'rss'>;

/** prom-client's default metrics of a Seqcast service (its /metrics on the management port). */
function heapFromMetrics(text: string): HeapReading {
  const value = (name: string) => {
    const match = new RegExp(`^${name}(?:\\{[^}]*\\})? ([\\d.e+]+)`, 'm').exec(text);
    return match ? Number(match[1]) : NaN;
  };
  const spaces: HeapReading['spaces'] = {};
  for (const match of text.matchAll(/^nodejs_heap_space_size_(total|used)_bytes\{[^}]*space="(\w+)"[^}]*\} ([\d.e+]+)/gm)) {
    const space = (spaces[match[2]] ??= { size: 0, used: 0 });
    if (match[1] === 'total') space.size = Number(match[3]);
    else space.used = Number(match[3]);
  }
  return {
    heap: value('nodejs_heap_size_used_bytes'),
    heapTotal: value('nodejs_heap_size_total_bytes'),
    external: value('nodejs_external_memory_bytes'),
    spaces,
  };
}

/**
 * Heap of a Seqcast service from its own /metrics; of the baseline from its /memory. Neither
 * forces a GC (the gateway offers none), so both include garbage not yet collected alike.
 */
async function heapReading(server: BenchProcess, seqcast: boolean): Promise<HeapReading> {
  if (seqcast) {
    const metricsBase = server instanceof ServiceProcess ? server.managementUrl : server.url;
    return heapFromMetrics(await (await fetch(`${metricsBase}/metrics`)).text());
  }
  const m = (await (await fetch(`${server.url}/memory`)).json()) as { heapUsed: number } & Omit<HeapReading, 'heap'>;
  return { heap: m.heapUsed, heapTotal: m.heapTotal, external: m.external, spaces: m.spaces };
}

async function sample(server: BenchProcess, seqcast: boolean, settleMs: number): Promise<Memory> {
  await sleep(settleMs);
  return { rss: rssBytes(server.pid ?? 0), ...(await heapReading(server, seqcast)) };
}

/** NODE_OPTIONS that make a server write a heap snapshot into `dir` on SIGUSR2. */
function snapshotNodeOptions(dir: string): string {
  return `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${dir}`;
}

/**
 * Has the server write a heap snapshot (it forces a full GC and pauses the process while it
 * writes) and renames it to `name`. Done once the file exists and the server answers again.
 */
async function heapSnapshot(server: BenchProcess, dir: string, name: string): Promise<void> {
  const pid = server.pid ?? 0;
  const mine = () => readdirSync(dir).filter((f) => f.endsWith('.heapsnapshot') && f.includes(`.${pid}.`));
  const existing = new Set(mine());
  server.signal('SIGUSR2');
  let file: string | undefined;
  await waitFor(
    async () => {
      file ??= mine().find((f) => !existing.has(f));
      if (!file) return false;
      const size = statSync(join(dir, file)).size;
      const answered = (await fetch(`${server.url}/readyz`).catch(() => undefined)) !== undefined;
      return answered && size > 0 && statSync(join(dir, file)).size === size;
    },
    { timeoutMs: 300_000, intervalMs: 500, what: `${server.label} heap snapshot` },
  );
  renameSync(join(dir, file as string), join(dir, name));
}

/**
 * Memory per idle subscribed connection: S sockets, each subscribed to one of R rooms, nothing
 * published; (after − before) / S for the Seqcast gateway and a raw Socket.IO server. The sockets
 * connect in two halves with a sample between them: (after − mid) / (S / 2) leaves out what grows
 * once whatever the count, above all V8's young generation, which the connect burst grows to its
 * maximum (tens of MiB, committed and touched) in the first half already.
 */
export async function idle(options: BenchOptions): Promise<ScenarioResult> {
  const sockets = options.sockets ?? (options.smoke ? 20 : 5_000);
  const roomCount = options.rooms ?? (options.smoke ? 5 : 500);
  const settleMs = options.smoke ? SMOKE_SETTLE_MS : SETTLE_MS;
  const runs: IdleRun[] = [];
  for (let rep = 1; rep <= options.reps; rep++) {
    for (const system of ['seqcast', 'raw socket.io'] as const) {
      const rooms = benchRooms(roomCount);
      const snapshots = options.heapSnapshots;
      if (snapshots) mkdirSync(snapshots, { recursive: true });
      const nodeOptions: Record<string, string> = snapshots ? { NODE_OPTIONS: snapshotNodeOptions(snapshots) } : {};
      const stack = system === 'seqcast' ? await startSeqcast({ ingest: false, gatewayEnv: nodeOptions }) : await startRaw(nodeOptions);
      const server = 'gateways' in stack ? stack.gateways[0] : stack.servers[0];
      const seqcast = system === 'seqcast';
      const pools: ClientPool[] = [];
      try {
        const before = await sample(server, seqcast, settleMs);
        const file = (phase: string) => `${system.replace(/\W+/g, '-')}-rep${rep}-${phase}.heapsnapshot`;
        // After the sample it describes; its forced GC moves the next sample, so a run with
        // snapshots is for the breakdown, not for the figures.
        if (snapshots) await heapSnapshot(server, snapshots, file('before'));
        const firstHalf = Math.floor(sockets / 2);
        const open = async (half: string, count: number) =>
          pools.push(
            await ClientPool.open(`idle-${rep}-${half}`, count, {
              mode: seqcast ? 'seqcast' : 'socketio',
              url: server.url,
              token: 'token' in stack ? stack.token : undefined,
              rooms,
              roomsPerClient: 1,
            }),
          );
        await open('a', firstHalf);
        const mid = await sample(server, seqcast, settleMs);
        await open('b', sockets - firstHalf);
        const after = await sample(server, seqcast, settleMs);
        if (snapshots) await heapSnapshot(server, snapshots, file('after'));
        const secondHalf = sockets - firstHalf;
        runs.push({
          system,
          rep,
          before,
          mid,
          after,
          rssPerSocket: (after.rss - before.rss) / sockets,
          heapPerSocket: (after.heap - before.heap) / sockets,
          rssPerSocketSecondHalf: (after.rss - mid.rss) / secondHalf,
          heapPerSocketSecondHalf: (after.heap - mid.heap) / secondHalf,
        });
      } finally {
        for (const pool of pools) pool.close();
        await stack.stop();
      }
    }
  }
  const kb = (system: string, f: (r: IdleRun) => number) => Math.round(median(runs.filter((r) => r.system === system).map(f)) / 102.4) / 10;
  // The heap outside V8's young generation: what survived (new space holds, besides young
  // objects, up to a semi-space of garbage whose level at sampling time is chance).
  const oldGen = (m: Memory) => m.heap - (m.spaces['new']?.used ?? 0) - (m.spaces['new_large_object']?.used ?? 0);
  const row = (system: string) => [
    system,
    kb(system, (r) => r.rssPerSocket),
    kb(system, (r) => r.heapPerSocket),
    kb(system, (r) => (oldGen(r.after) - oldGen(r.before)) / sockets),
    kb(system, (r) => r.rssPerSocketSecondHalf),
    kb(system, (r) => (oldGen(r.after) - oldGen(r.mid)) / (sockets - Math.floor(sockets / 2))),
    kb(system, (r) => r.after.rss) / 1024,
    kb(system, (r) => r.before.rss) / 1024,
  ];
  return {
    title: `${sockets} idle sockets, each subscribed to one of ${roomCount} rooms, median of ${options.reps}`,
    table: {
      columns: [
        'system',
        'RSS KB / socket',
        'heap KB / socket',
        'old-gen heap KB / socket',
        'RSS KB / socket, 2nd half',
        'old-gen heap KB / socket, 2nd half',
        'RSS after (MiB)',
        'RSS before (MiB)',
      ],
      rows: [row('seqcast'), row('raw socket.io')],
    },
    notes: [],
    series: [],
    bars: {
      unit: 'KB per idle subscribed socket',
      values: ['seqcast', 'raw socket.io'].flatMap((system) => [
        { group: 'RSS', label: system, value: kb(system, (r) => r.rssPerSocket) },
        { group: 'heap', label: system, value: kb(system, (r) => r.heapPerSocket) },
      ]),
    },
    data: { sockets, rooms: roomCount, settleMs, runs },
  };
}
