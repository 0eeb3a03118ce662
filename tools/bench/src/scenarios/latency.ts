import { testKafkaBrokers } from '@seqcast/testing';
import { ClientPool } from '../lib/client-pool';
import { describeConnections, describeFirstSecond, describeHops, describeRuntime, gatewayReceiveMs, runtimeStats, type RuntimeStats, type HopSample, hopSamples, summarizeHops, type WorkerBatchStats, workerBatchStats } from '../lib/hops';
import { type BenchOptions, benchRooms, pollUntil, runId, type ScenarioResult } from '../lib/context';
import { CpuMeter } from '../lib/proc';
import { progressBar } from '../lib/progress';
import { Publisher } from '../lib/publisher';
import { startSeqcast } from '../lib/stack';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { cdf, type CdfPoint, median, summarize, type LatencySummary } from '../lib/stats';
import { startPeer } from './peer-servers';

export type Target = 'seqcast' | 'peer';

interface RateRun {
  rate: number;
  rep: number;
  delivery: LatencySummary;
  roundTrip: LatencySummary;
  deliveredFraction: number;
  keptUp: boolean;
  drainSeconds: number;
  failed: number;
  cpu: Record<string, number>;
  /** With --hops: p50/p90/p99 per hop, and the worker's mean batch (transaction, events publish). */
  hops?: Record<string, { p50: number; p90: number; p99: number }>;
  workerBatches?: WorkerBatchStats;
  /** With --hops: mean events CreateTime → the gateway handling the batch, ms (the gateway hop's Kafka part). */
  gatewayReceiveMs?: number;
  /** With --hops: the harness's share of the `http` hop (scheduled send → request written), and its event loop. */
  sendLag?: LatencySummary;
  /** Of sendLag: how late the publishing loop created the request (the rest waited for a socket of the agent). */
  timerLag?: LatencySummary;
  benchLoop?: { p99Ms: number; maxMs: number };
  /** With --hops: each service's event-loop delay and GC pauses over the run. */
  runtime?: Record<string, RuntimeStats>;
}

const SUBSCRIBERS = 2;
const ROOMS = 50;

/**
 * Single publishes at fixed offered rates (open loop), publish → delivered percentiles over
 * SUBSCRIBERS sockets subscribed to every room, whether the system kept up, CPU per process.
 */
export async function latency(options: BenchOptions, target: Target = 'seqcast'): Promise<ScenarioResult> {
  const rates = options.rates ?? (options.smoke ? [50] : [100, 1000, 3000]);
  const seconds = options.seconds ?? (options.smoke ? 1 : 10);
  const rooms = benchRooms(options.rooms ?? (options.smoke ? 5 : ROOMS));
  const system = target === 'seqcast' ? await startSeqcast() : await startPeer(options.redisUrl, 1);
  const pids = () =>
    'ingest' in system
      ? { 'ingest-api': system.ingest.pid, 'ordering-worker': system.worker.pid, 'edge-gateway': system.gateways[0].pid, bench: process.pid }
      : { 'socket.io+redis': system.servers[0].pid, bench: process.pid };
  let pool: ClientPool | undefined;
  const viaSocket = options.via === 'socket' && 'ingest' in system;
  const label = viaSocket ? `${target} (socket publish)` : target;
  const publisher =
    'ingest' in system
      ? viaSocket
        ? new Publisher({ kind: 'seqcast-socket', url: system.gateways[0].url, token: system.token, run: runId() })
        : new Publisher({ kind: 'seqcast', url: system.ingest.url, token: system.token, run: runId() })
      : new Publisher({ kind: 'socketio', url: system.servers[0].url });
  const runs: RateRun[] = [];
  const lastCdf = new Map<number, CdfPoint[]>();
  const hopNotes: string[] = [];
  const workerMetrics = async () =>
    'ingest' in system ? await (await fetch(`${system.worker.managementUrl}/metrics`)).text().catch(() => '') : '';
  const gatewayMetrics = async () =>
    'ingest' in system ? await (await fetch(`${system.gateways[0].managementUrl}/metrics`)).text().catch(() => '') : '';
  const ingestMetrics = async () =>
    'ingest' in system ? await (await fetch(`${system.ingest.managementUrl}/metrics`)).text().catch(() => '') : '';
  const benchLoop = monitorEventLoopDelay({ resolution: 10 });
  try {
    pool = await ClientPool.open(`latency-${target}`, SUBSCRIBERS, {
      mode: target === 'seqcast' ? 'seqcast' : 'socketio',
      url: 'ingest' in system ? system.gateways[0].url : system.servers[0].url,
      token: 'token' in system ? system.token : undefined,
      rooms,
      roomsPerClient: 0,
      recordArrivals: options.hops === true && 'ingest' in system,
    });
    // Connected before the clock starts: the first publish must not pay the handshake.
    if (viaSocket) await publisher.connectSocket();
    for (let rep = 1; rep <= options.reps; rep++) {
      for (const rate of rates) {
        // The publisher's connections are opened before the clock, as the subscribers' and the socket
        // publisher's are (BENCH_WARM_CONNECTIONS=0: opened under load, as before session 7).
        if (process.env['BENCH_WARM_CONNECTIONS'] !== '0') await publisher.warmConnections();
        const cpu = new CpuMeter(pids);
        const bar = progressBar(`${label} ${rate} msg/s #${rep}`, Math.round(rate * seconds));
        const before = (await pool.report(publisher.stats.issued, publisher.takeFailures(), true)).deliveries;
        const failedBefore = publisher.stats.failed;
        const metricsBefore = options.hops ? await workerMetrics() : '';
        const gatewayMetricsBefore = options.hops ? await gatewayMetrics() : '';
        const ingestMetricsBefore = options.hops ? await ingestMetrics() : '';
        publisher.stats.sendLag.reset();
        publisher.stats.timerLag.reset();
        publisher.takeWritten();
        benchLoop.reset();
        benchLoop.enable();
        cpu.begin();
        const started = performance.now();
        await publisher.openLoop(rate, seconds, rooms, (sent) => bar.update(sent));
        benchLoop.disable();
        const expected = Math.round(rate * seconds) * SUBSCRIBERS;
        // Give a run that fell behind a bounded time to drain, so the table can say by how much.
        await pollUntil(async () => (await (pool as ClientPool).progress(publisher.stats.issued, publisher.takeFailures())).complete === SUBSCRIBERS, Math.max(10_000, seconds * 1000), 50);
        const drainSeconds = (performance.now() - started) / 1000;
        const cpuUse = cpu.end();
        bar.stop();
        const report = await pool.report(publisher.stats.issued, publisher.takeFailures(), true);
        const delivered = report.deliveries - before;
        let hops: RateRun['hops'];
        let workerBatches: RateRun['workerBatches'];
        let receiveMs: RateRun['gatewayReceiveMs'];
        let runtime: RateRun['runtime'];
        let sendLag: RateRun['sendLag'];
        let timerLag: RateRun['timerLag'];
        let loop: RateRun['benchLoop'];
        if (options.hops && 'ingest' in system) {
          const samples: HopSample[] = await hopSamples(
            testKafkaBrokers(),
            { messagesTopic: system.env['SEQCAST_MESSAGES_TOPIC'], eventsTopic: system.env['SEQCAST_EVENTS_TOPIC'] },
            report.arrivals,
            performance.timeOrigin + started,
            publisher.takeWritten(),
          );
          hops = summarizeHops(samples);
          const workerMetricsAfter = await workerMetrics();
          workerBatches = workerBatchStats(metricsBefore, workerMetricsAfter);
          const gatewayMetricsAfter = await gatewayMetrics();
          receiveMs = gatewayReceiveMs(gatewayMetricsBefore, gatewayMetricsAfter);
          runtime = {
            'ingest-api': runtimeStats(ingestMetricsBefore, await ingestMetrics()),
            'ordering-worker': runtimeStats(metricsBefore, workerMetricsAfter),
            'edge-gateway': runtimeStats(gatewayMetricsBefore, gatewayMetricsAfter),
          };
          sendLag = summarize(publisher.stats.sendLag);
          timerLag = summarize(publisher.stats.timerLag);
          loop = { p99Ms: Math.round(benchLoop.percentile(99) / 1e5) / 10, maxMs: Math.round(benchLoop.max / 1e5) / 10 };
          hopNotes.push(
            `#${rep} ${describeHops(rate, samples)}; worker: ${workerBatches.batches} batches, ` +
              `${workerBatches.messagesPerBatch} msg/batch, mean transaction ${workerBatches.transactionMs} ms, ` +
              `mean events publish ${workerBatches.publishMs} ms` +
              (workerBatches.commits ? `, ${workerBatches.commits} commits` : '') +
              `; gateway: mean events CreateTime → batch handled ${receiveMs} ms`,
          );
          hopNotes.push(
            `#${rep} ${rate} msg/s runtime: bench send lag p50/p99/max ${sendLag.p50}/${sendLag.p99}/${sendLag.max} ms ` +
              `(of which the loop's timer ${timerLag.p50}/${timerLag.p99}/${timerLag.max}), ` +
              `bench loop p99/max ${loop.p99Ms}/${loop.maxMs} ms; ${describeConnections(samples)}; ${describeFirstSecond(samples)}; ` +
              Object.entries(runtime).map(([name, stats]) => describeRuntime(name, stats)).join('; '),
          );
        }
        runs.push({
          rate,
          rep,
          delivery: summarize(report.histogram),
          roundTrip: summarize(publisher.stats.roundTrip),
          deliveredFraction: delivered / expected,
          keptUp: delivered >= expected && publisher.stats.failed === failedBefore && drainSeconds <= seconds + 2,
          drainSeconds,
          failed: publisher.stats.failed - failedBefore,
          cpu: cpuUse,
          hops,
          workerBatches,
          gatewayReceiveMs: receiveMs,
          sendLag,
          timerLag,
          benchLoop: loop,
          runtime,
        });
        publisher.stats.roundTrip.reset();
        if (rep === options.reps) lastCdf.set(rate, cdf(report.histogram));
      }
    }
  } finally {
    pool?.close();
    publisher.close();
    await system.stop();
  }

  const rows = rates.map((rate) => {
    const of = runs.filter((r) => r.rate === rate);
    const m = (f: (r: RateRun) => number) => median(of.map(f));
    const cpuNames = Object.keys(of[0]?.cpu ?? {});
    return [
      label,
      rate,
      m((r) => r.delivery.p50),
      m((r) => r.delivery.p90),
      m((r) => r.delivery.p99),
      m((r) => r.delivery.max),
      `${(m((r) => r.deliveredFraction) * 100).toFixed(1)} %`,
      `${of.filter((r) => r.keptUp).length}/${of.length}`,
      m((r) => r.roundTrip.p50),
      m((r) => r.roundTrip.p99),
      of.reduce((s, r) => s + r.failed, 0),
      cpuNames.map((name) => `${name} ${m((r) => r.cpu[name])} %`).join(', '),
    ];
  });
  const title = `${label}: single publishes, ${rooms.length} rooms, ${SUBSCRIBERS} subscribers on every room, ${seconds} s per rate, median of ${options.reps}`;
  return {
    title,
    table: {
      columns: ['system', 'offered msg/s', 'delivery p50 ms', 'p90', 'p99', 'max', 'delivered', 'kept up', 'publish RTT p50', 'RTT p99', 'failed', 'CPU (% of one core)'],
      rows,
    },
    notes: hopNotes,
    series: rates.map((rate) => ({ name: `${label} ${rate} msg/s`, points: lastCdf.get(rate) ?? [] })),
    data: { rates, seconds, rooms: rooms.length, subscribers: SUBSCRIBERS, runs },
  };
}
