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
  heap: number;
}

interface IdleRun {
  system: string;
  rep: number;
  rssPerSocket: number;
  heapPerSocket: number;
  before: Memory;
  after: Memory;
}

/** Heap of a Seqcast service from its own /metrics; of the baseline from its /memory. */
async function heapUsed(server: BenchProcess, seqcast: boolean): Promise<number> {
  if (seqcast) {
    const metricsBase = server instanceof ServiceProcess ? server.managementUrl : server.url;
    const text = await (await fetch(`${metricsBase}/metrics`)).text();
    const match = /^nodejs_heap_size_used_bytes(?:\{[^}]*\})? ([\d.e+]+)/m.exec(text);
    return match ? Number(match[1]) : NaN;
  }
  // No forced GC: the gateway offers none, so both sides are sampled the same way.
  return ((await (await fetch(`${server.url}/memory`)).json()) as { heapUsed: number }).heapUsed;
}

async function sample(server: BenchProcess, seqcast: boolean, settleMs: number): Promise<Memory> {
  await sleep(settleMs);
  return { rss: rssBytes(server.pid ?? 0), heap: await heapUsed(server, seqcast) };
}

/**
 * Memory per idle subscribed connection: S sockets, each subscribed to one of R rooms, nothing
 * published; (after − before) / S for the Seqcast gateway and a raw Socket.IO server.
 */
export async function idle(options: BenchOptions): Promise<ScenarioResult> {
  const sockets = options.sockets ?? (options.smoke ? 20 : 5_000);
  const roomCount = options.rooms ?? (options.smoke ? 5 : 500);
  const settleMs = options.smoke ? SMOKE_SETTLE_MS : SETTLE_MS;
  const runs: IdleRun[] = [];
  for (let rep = 1; rep <= options.reps; rep++) {
    for (const system of ['seqcast', 'raw socket.io'] as const) {
      const rooms = benchRooms(roomCount);
      const stack = system === 'seqcast' ? await startSeqcast({ ingest: false }) : await startRaw();
      const server = 'gateways' in stack ? stack.gateways[0] : stack.servers[0];
      const seqcast = system === 'seqcast';
      let pool: ClientPool | undefined;
      try {
        const before = await sample(server, seqcast, settleMs);
        pool = await ClientPool.open(`idle-${rep}`, sockets, {
          mode: seqcast ? 'seqcast' : 'socketio',
          url: server.url,
          token: 'token' in stack ? stack.token : undefined,
          rooms,
          roomsPerClient: 1,
        });
        const after = await sample(server, seqcast, settleMs);
        runs.push({ system, rep, before, after, rssPerSocket: (after.rss - before.rss) / sockets, heapPerSocket: (after.heap - before.heap) / sockets });
      } finally {
        pool?.close();
        await stack.stop();
      }
    }
  }
  const kb = (system: string, f: (r: IdleRun) => number) => Math.round(median(runs.filter((r) => r.system === system).map(f)) / 102.4) / 10;
  const row = (system: string) => [system, kb(system, (r) => r.rssPerSocket), kb(system, (r) => r.heapPerSocket), kb(system, (r) => r.after.rss) / 1024, kb(system, (r) => r.before.rss) / 1024];
  return {
    title: `${sockets} idle sockets, each subscribed to one of ${roomCount} rooms, median of ${options.reps}`,
    table: { columns: ['system', 'RSS KB / socket', 'heap KB / socket', 'RSS after (MiB)', 'RSS before (MiB)'], rows: [row('seqcast'), row('raw socket.io')] },
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
