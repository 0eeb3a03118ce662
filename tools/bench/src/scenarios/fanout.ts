import { ClientPool } from '../lib/client-pool';
import { type BenchOptions, benchRooms, pollUntil, runId, type ScenarioResult } from '../lib/context';
import { CpuMeter } from '../lib/proc';
import { progressBar } from '../lib/progress';
import { Publisher } from '../lib/publisher';
import { startSeqcast } from '../lib/stack';
import { cdf, type CdfPoint, median, ratio, summarize, type LatencySummary } from '../lib/stats';
import { startRaw } from './peer-servers';

const RATE = 50;

interface FanoutRun {
  system: string;
  rep: number;
  deliveriesPerSecond: number;
  delivery: LatencySummary;
  deliveredFraction: number;
  /** Publishes not acknowledged within the bound (abandoned; subscribers are not held to them). */
  publishFailed: number;
  cpu: number;
}

/**
 * One room × N sockets, single publishes at RATE msg/s: the Seqcast gateway against a raw
 * Socket.IO server emitting the same `messages` event per publish to the same room, same run.
 */
export async function fanout(options: BenchOptions): Promise<ScenarioResult> {
  const sockets = options.sockets ?? (options.smoke ? 20 : 2_000);
  const seconds = options.seconds ?? (options.smoke ? 1 : 10);
  const runs: FanoutRun[] = [];
  const cdfs = new Map<string, CdfPoint[]>();
  for (let rep = 1; rep <= options.reps; rep++) {
    for (const system of ['seqcast', 'raw socket.io'] as const) {
      const [room] = benchRooms(1);
      const stack = system === 'seqcast' ? await startSeqcast() : await startRaw();
      const server = 'ingest' in stack ? stack.gateways[0] : stack.servers[0];
      const publisher =
        'ingest' in stack ? new Publisher({ kind: 'seqcast', url: stack.ingest.url, token: stack.token, run: runId() }) : new Publisher({ kind: 'socketio', url: server.url });
      let pool: ClientPool | undefined;
      try {
        pool = await ClientPool.open(`fanout-${rep}`, sockets, {
          mode: system === 'seqcast' ? 'seqcast' : 'socketio',
          url: server.url,
          token: 'token' in stack ? stack.token : undefined,
          rooms: [room],
          roomsPerClient: 1,
        });
        const cpu = new CpuMeter(() => ({ server: server.pid }));
        const expected = Math.round(RATE * seconds) * sockets;
        const bar = progressBar(`${system} ${sockets} sockets #${rep}`, expected);
        cpu.begin();
        const started = performance.now();
        const publishing = publisher.openLoop(RATE, seconds, [room]);
        await pollUntil(async () => {
          const p = await (pool as ClientPool).progress(publisher.stats.issued, publisher.takeFailures());
          bar.update(p.deliveries);
          return p.complete === sockets && publisher.stats.sent >= RATE * seconds;
        }, seconds * 1000 + 60_000, 100);
        await publishing;
        const elapsed = (performance.now() - started) / 1000;
        const cpuUse = cpu.end()['server'];
        bar.stop();
        const report = await pool.report(publisher.stats.issued, publisher.takeFailures());
        runs.push({ system, rep, deliveriesPerSecond: report.deliveries / elapsed, delivery: summarize(report.histogram), deliveredFraction: report.deliveries / expected, publishFailed: publisher.stats.failed, cpu: cpuUse });
        cdfs.set(system, cdf(report.histogram));
      } finally {
        pool?.close();
        publisher.close();
        await stack.stop();
      }
    }
  }
  const med = (system: string, f: (r: FanoutRun) => number) => median(runs.filter((r) => r.system === system).map(f));
  const row = (system: string) => [
    system,
    med(system, (r) => r.deliveriesPerSecond),
    med(system, (r) => r.delivery.p50),
    med(system, (r) => r.delivery.p99),
    med(system, (r) => r.delivery.max),
    `${(med(system, (r) => r.deliveredFraction) * 100).toFixed(1)} %`,
    med(system, (r) => r.publishFailed),
    med(system, (r) => r.cpu),
  ];
  const ratios = {
    deliveriesPerSecond: ratio(med('seqcast', (r) => r.deliveriesPerSecond), med('raw socket.io', (r) => r.deliveriesPerSecond)),
    p50: ratio(med('seqcast', (r) => r.delivery.p50), med('raw socket.io', (r) => r.delivery.p50)),
    p99: ratio(med('seqcast', (r) => r.delivery.p99), med('raw socket.io', (r) => r.delivery.p99)),
  };
  return {
    title: `one room × ${sockets} sockets, ${RATE} msg/s for ${seconds} s, median of ${options.reps}`,
    table: { columns: ['system', 'deliveries/s', 'delivery p50 ms', 'p99', 'max', 'delivered', 'publishes failed', 'server CPU %'], rows: [row('seqcast'), row('raw socket.io')] },
    notes: [`seqcast / raw socket.io: deliveries/s ${ratios.deliveriesPerSecond}, p50 ${ratios.p50}, p99 ${ratios.p99} (latency ratios above 1 mean Seqcast is slower)`],
    series: [...cdfs].map(([name, points]) => ({ name, points })),
    data: { sockets, rate: RATE, seconds, runs, ratios },
  };
}
