import { ClientPool } from '../lib/client-pool';
import { type BenchOptions, benchRooms, pollUntil, runId, sleep, type ScenarioResult } from '../lib/context';
import { readFileSync } from 'node:fs';
import { CpuMeter } from '../lib/proc';
import { progressBar } from '../lib/progress';
import { Publisher } from '../lib/publisher';
import { startSeqcast } from '../lib/stack';
import { cdf, type CdfPoint, type LatencySummary, median, newHistogram, percentileOf, recordMs, summarize } from '../lib/stats';
import { startPeer } from './peer-servers';
import type { Target } from './latency';

const RATE = 100;
const rel = (at: number | undefined, from: number) => (at === undefined ? undefined : Math.round(at - from) / 1000);
const WARMUP_MS = 3_000;

interface StormRun {
  rep: number;
  clients: number;
  disconnected: number;
  /** SIGTERM → the last client caught up (or NaN if some never did within the bound). */
  allCaughtUpSeconds: number;
  neverCaughtUp: number;
  resumeP50Ms: number;
  resumeP99Ms: number;
  /** Disconnect → connected again (through the balancer, to the new instance): the part before the resume. */
  reconnected: number;
  reconnectP50Ms: number;
  reconnectP99Ms: number;
  /** Every client ended up with every acknowledged message (within the bound). */
  settled: boolean;
  /** Acknowledged messages some client did not have at the end: lost if the run settled, else still in flight. */
  lost: number;
  incompleteClients: number;
  duplicates: number;
  oldServerExitSeconds: number;
  /** Endpoint update → every worker's balancer confirmed it (the IPC round trip), before SIGTERM. */
  switchMs: number;
  /** % of one core per process from SIGTERM until all caught up (or the bound): `cpuWindowSeconds` long. */
  cpu: Record<string, number>;
  cpuWindowSeconds: number;
  /** Publishes not acknowledged (not counted as lost: the publisher would retry them). */
  publishFailed: number;
  errors: string[];
  /** publish → delivered before the restart: whether the system kept up with the rate at all. */
  warmupDelivery: LatencySummary;
  /** At the restart: deliveries made, and published ones not yet delivered (in flight, the backlog it starts with). */
  warmupDelivered: number;
  warmupInFlight: number;
  /** publish → delivered from the restart on, resumes included. */
  delivery: LatencySummary;
  /** Each client worker's event-loop delay from SIGTERM on (ms): how late the load generator itself served its sockets. */
  clientLoopDelay: Array<{ p99: number; max: number }>;
  /** SDK reconnect attempts from SIGTERM on, by the reason the SDK gave (one `server_restart` per client is the minimum). */
  reconnectReasons: Record<string, number>;
  /**
   * Box-wide TCP counters from SIGTERM to the report (/proc/net/netstat; other processes count too):
   * connections dropped because a listener's accept queue was full, and SYNs sent again for them.
   */
  listenOverflows?: number;
  synRetransmits?: number;
  /** A few clients' timelines, seconds after SIGTERM, to read a surprising figure by. */
  sample: Array<{ disconnected?: number; reconnected?: number; caughtUp?: number }>;
}

/**
 * A deploy under load: N clients subscribed (with acks, through the SDK for Seqcast) behind a
 * loopback balancer, RATE msg/s published throughout; the balancer is switched to a second,
 * already-ready instance and the first gets SIGTERM (its drain tells clients to reconnect). Every
 * client must resume: time until all caught up, resume time after each client's reconnect,
 * messages lost and duplicates shown to the application.
 *
 * The balancer is sharded: one in each client worker process (like kube-proxy on every node), all
 * switched before the SIGTERM. A single one holds two fds per client and stops accepting at
 * `ulimit -n` / 2 clients (20,000 here: EMFILE from 9,990 clients on).
 */
export async function storm(options: BenchOptions, target: Target = 'seqcast'): Promise<ScenarioResult> {
  const clients = options.clients ?? (options.smoke ? 20 : 2_000);
  const drainSpreadMs = options.smoke ? 1_000 : 10_000;
  const roomCount = options.rooms ?? 10;
  // Smoke only proves the script works; a light rate keeps the loaded CI box from lagging for minutes.
  // --rates picks another (its first): at 10k clients 100 msg/s over 10 rooms is 100k deliveries/s
  // before any restart, so a lower rate tells the resume apart from a fan-out the box cannot carry.
  const rate = options.rates?.[0] ?? (options.smoke ? 20 : RATE);
  const runs: StormRun[] = [];
  let resumeCdf: CdfPoint[] = [];
  for (let rep = 1; rep <= options.reps; rep++) {
    const rooms = benchRooms(roomCount);
    const system =
      target === 'seqcast'
        ? await startSeqcast({ gateways: 2, gatewayEnv: { GATEWAY_DRAIN_SPREAD_MS: String(drainSpreadMs), GATEWAY_DRAIN_TIMEOUT_MS: String(drainSpreadMs * 3) } })
        : await startPeer(options.redisUrl, 2, drainSpreadMs);
    const [oldServer, newServer] = 'ingest' in system ? system.gateways : system.servers;
    const publisher =
      'ingest' in system
        ? new Publisher({ kind: 'seqcast', url: system.ingest.url, token: system.token, run: runId() })
        : new Publisher({ kind: 'socketio', url: newServer.url });
    let pool: ClientPool | undefined;
    let stopPublishing = false;
    let publishing: Promise<void> = Promise.resolve();
    try {
      pool = await ClientPool.open(`storm-${target}-${rep}`, clients, {
        mode: target === 'seqcast' ? 'sdk' : 'socketio',
        url: oldServer.url,
        balanced: true,
        ingestUrl: 'ingest' in system ? system.ingest.url : undefined,
        token: 'token' in system ? system.token : undefined,
        rooms,
        roomsPerClient: 1,
        reconnect: true,
      });
      publishing = publisher.openLoop(rate, 3_600, rooms, undefined, () => stopPublishing);
      await sleep(options.smoke ? 1_000 : WARMUP_MS);
      const warmup = await pool.report(publisher.stats.issued, publisher.takeFailures(), true);
      const switchStarted = performance.now();
      await pool.switchUpstream(newServer.port);
      const switchMs = performance.now() - switchStarted;
      const clientPids = Object.fromEntries(pool.pids.map((pid, i) => [`clients-${i}`, pid]));
      const cpu = new CpuMeter(() =>
        'ingest' in system
          ? { 'old gateway': oldServer.pid, 'new gateway': newServer.pid, 'ingest-api': system.ingest.pid, 'ordering-worker': system.worker.pid, ...clientPids, bench: process.pid }
          : { 'old instance': oldServer.pid, 'new instance': newServer.pid, ...clientPids, bench: process.pid },
      );
      const tcpBefore = tcpCounters();
      const termAt = performance.timeOrigin + performance.now();
      cpu.begin();
      pool.mark(termAt - 1);
      const oldExited = oldServer.stop(drainSpreadMs * 3 + 20_000).then(() => (performance.timeOrigin + performance.now() - termAt) / 1000);
      const bar = progressBar(`${target} storm ${clients} clients #${rep}`, clients);
      // Bounded: the drain window plus a minute for the slowest resumes.
      const boundMs = drainSpreadMs + (options.smoke ? 15_000 : 60_000);
      await pollUntil(async () => {
        const p = await (pool as ClientPool).progress(publisher.stats.issued, publisher.takeFailures());
        bar.update(p.caughtUp);
        cpu.sample();
        return p.caughtUp >= clients;
      }, boundMs, 200);
      const cpuWindowSeconds = (performance.timeOrigin + performance.now() - termAt) / 1000;
      const cpuUse = cpu.end();
      bar.stop();
      // Keep publishing briefly so the last resumes are followed by live traffic, then stop and settle.
      await sleep(1_000);
      stopPublishing = true;
      await publishing;
      const settled = await pollUntil(async () => (await (pool as ClientPool).progress(publisher.stats.issued, publisher.takeFailures())).complete >= clients, options.smoke ? 5_000 : 20_000, 250);
      const report = await pool.report(publisher.stats.issued, publisher.takeFailures());
      const tcpAfter = tcpCounters();
      const resumes = report.timings.filter((t) => t.caughtUpAt !== undefined && t.reconnectedAt !== undefined).map((t) => (t.caughtUpAt as number) - (t.reconnectedAt as number));
      const reconnects = report.timings.filter((t) => t.disconnectedAt !== undefined && t.reconnectedAt !== undefined).map((t) => (t.reconnectedAt as number) - (t.disconnectedAt as number));
      const caughtUpAt = report.timings.map((t) => t.caughtUpAt).filter((t): t is number => t !== undefined);
      const histogram = newHistogram();
      for (const r of resumes) recordMs(histogram, r);
      resumeCdf = cdf(histogram);
      runs.push({
        rep,
        clients,
        disconnected: report.timings.filter((t) => t.disconnectedAt !== undefined).length,
        // From the clients' own timestamps: one that caught up after the last poll still counts.
        allCaughtUpSeconds: caughtUpAt.length >= clients ? (Math.max(...caughtUpAt) - termAt) / 1000 : NaN,
        neverCaughtUp: clients - caughtUpAt.length,
        resumeP50Ms: percentileOf(resumes, 50),
        resumeP99Ms: percentileOf(resumes, 99),
        reconnected: reconnects.length,
        reconnectP50Ms: percentileOf(reconnects, 50),
        reconnectP99Ms: percentileOf(reconnects, 99),
        settled,
        lost: report.lost,
        incompleteClients: report.incompleteClients,
        duplicates: report.duplicates,
        oldServerExitSeconds: await oldExited,
        switchMs: Math.round(switchMs * 10) / 10,
        cpu: cpuUse,
        cpuWindowSeconds: Math.round(cpuWindowSeconds * 10) / 10,
        publishFailed: publisher.stats.failed,
        errors: report.errors,
        warmupDelivery: summarize(warmup.histogram),
        warmupDelivered: warmup.deliveries,
        warmupInFlight: warmup.lost,
        delivery: summarize(report.histogram),
        clientLoopDelay: report.loopDelay.map((d) => ({ p99: Math.round(d.p99), max: Math.round(d.max) })),
        reconnectReasons: report.reconnectReasons,
        listenOverflows: tcpBefore && tcpAfter ? tcpAfter.ListenOverflows - tcpBefore.ListenOverflows : undefined,
        synRetransmits: tcpBefore && tcpAfter ? tcpAfter.TCPSynRetrans - tcpBefore.TCPSynRetrans : undefined,
        sample: report.timings.slice(0, 5).map((t) => ({
          disconnected: rel(t.disconnectedAt, termAt),
          reconnected: rel(t.reconnectedAt, termAt),
          caughtUp: rel(t.caughtUpAt, termAt),
        })),
      });
    } finally {
      stopPublishing = true;
      await publishing.catch(() => undefined);
      pool?.close();
      publisher.close();
      await system.stop();
    }
  }
  const m = (f: (r: StormRun) => number) => median(runs.map(f));
  const sum = (f: (r: StormRun) => number) => runs.reduce((s, r) => s + f(r), 0);
  return {
    title: `${target}: gateway restart under ${clients} subscribed clients (${roomCount} rooms, ${rate} msg/s, drain spread ${drainSpreadMs / 1000} s), median of ${options.reps}`,
    table: {
      columns: ['system', 'clients', 'all caught up after (s)', 'never caught up', 'resume p50 ms', 'resume p99 ms', 'settled', 'missing at end (all runs)', 'duplicates shown (all runs)', 'old instance exited after (s)', 'publishes failed'],
      rows: [
        [
          target === 'seqcast' ? 'seqcast (SDK)' : 'socket.io + redis-streams',
          clients,
          m((r) => r.allCaughtUpSeconds),
          sum((r) => r.neverCaughtUp),
          m((r) => r.resumeP50Ms),
          m((r) => r.resumeP99Ms),
          `${runs.filter((r) => r.settled).length}/${runs.length}`,
          sum((r) => r.lost),
          sum((r) => r.duplicates),
          m((r) => r.oldServerExitSeconds),
          sum((r) => r.publishFailed),
        ],
      ],
    },
    notes: runs.flatMap((r) => [
      `run ${r.rep}: ${r.reconnected} of ${r.clients} clients reconnected within the run; disconnect → reconnected p50 ${Math.round(r.reconnectP50Ms)} ms / p99 ${Math.round(r.reconnectP99Ms)} ms`,
      `run ${r.rep}: before the restart ${r.warmupDelivered} deliveries made, ${r.warmupInFlight} published but not yet delivered; delivery before the restart p50 ${Math.round(r.warmupDelivery.p50)} ms / p99 ${Math.round(r.warmupDelivery.p99)} ms, after it p50 ${Math.round(r.delivery.p50)} ms / p99 ${Math.round(r.delivery.p99)} ms`,
      `run ${r.rep}: CPU from SIGTERM until all caught up (${r.cpuWindowSeconds} s), % of one core: ${cpuSummary(r.cpu)}; balancers switched in ${r.switchMs} ms`,
      `run ${r.rep}: client workers' event-loop delay from SIGTERM on, p99 / max ms: ${r.clientLoopDelay.map((d) => `${d.p99} / ${d.max}`).join(', ')}; box-wide accept-queue overflows ${r.listenOverflows ?? '?'}, SYN retransmits ${r.synRetransmits ?? '?'}`,
      `run ${r.rep}: reconnect attempts by reason: ${Object.entries(r.reconnectReasons).sort((a, b) => b[1] - a[1]).map(([reason, n]) => `${reason} ${n}`).join(', ') || 'none'}`,
      ...r.errors.slice(0, 3).map((e) => `run ${r.rep}: client error: ${e}`),
    ]),
    series: [{ name: `${target} resume time (reconnect → caught up)`, points: resumeCdf }],
    data: { clients, rooms: roomCount, rate, drainSpreadMs, runs },
  };
}

/** TcpExt counters of /proc/net/netstat (Linux; undefined elsewhere). Box-wide: every process's listeners count. */
function tcpCounters(): { ListenOverflows: number; TCPSynRetrans: number } | undefined {
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n').filter((l) => l.startsWith('TcpExt:'));
    const names = lines[0].split(/\s+/);
    const values = lines[1].split(/\s+/).map(Number);
    const at = (name: string) => values[names.indexOf(name)];
    return { ListenOverflows: at('ListenOverflows'), TCPSynRetrans: at('TCPSynRetrans') };
  } catch {
    return undefined;
  }
}

/** Named processes as they are, the client workers (each with its balancer) added up. */
function cpuSummary(cpu: Record<string, number>): string {
  const workers = Object.entries(cpu).filter(([name]) => name.startsWith('clients-'));
  const others = Object.entries(cpu).filter(([name]) => !name.startsWith('clients-'));
  return [...others.map(([name, v]) => `${name} ${v}`), `${workers.length} client workers ${workers.reduce((s, [, v]) => s + v, 0)}`].join(', ');
}
