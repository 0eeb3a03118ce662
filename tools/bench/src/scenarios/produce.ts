import { createKafka, RoomProducer } from '@seqcast/kafka';
import { testKafkaBrokers } from '@seqcast/testing';
import { Kafka, logLevel } from 'kafkajs';
import { type BenchOptions, benchRooms, createBenchTopic, runId, type ScenarioResult } from '../lib/context';
import { progressBar } from '../lib/progress';
import { cdf, type CdfPoint, median, newHistogram, recordMs, summarize, type LatencySummary } from '../lib/stats';

const PARTITIONS = 12;
const LINGERS_MS = [0, 1, 5];

interface LingerRun {
  lingerMs: number;
  rate: number;
  rep: number;
  ack: LatencySummary;
  failed: number;
}

/**
 * The ingest hop alone: Seqcast's RoomProducer (idempotent, acks=all, coalescing while a request is
 * in flight) sending single records open loop at fixed rates, with and without a linger before an
 * idle producer's first send: does waiting for company beat sending at once? Send → ack percentiles
 * per linger, measured from the scheduled send time, the lingers interleaved in each repetition.
 */
export async function produce(options: BenchOptions): Promise<ScenarioResult> {
  const rates = options.rates ?? (options.smoke ? [100] : [300, 1000, 3000]);
  const seconds = options.seconds ?? (options.smoke ? 1 : 10);
  const rooms = benchRooms(options.rooms ?? 50);
  const brokers = testKafkaBrokers();
  const admin = new Kafka({ clientId: 'seqcast-bench', brokers, logLevel: logLevel.NOTHING }).admin();
  const topic = `bench.produce.${runId()}`;
  const runs: LingerRun[] = [];
  const lastCdf = new Map<string, CdfPoint[]>();
  await admin.connect();
  try {
    await createBenchTopic(admin, topic, PARTITIONS);
    for (let rep = 1; rep <= options.reps; rep++) {
      for (const rate of rates) {
        for (const lingerMs of LINGERS_MS) {
          const producer = new RoomProducer(createKafka({ clientId: 'seqcast-bench-produce', brokers }), { partitions: PARTITIONS, lingerMs });
          await producer.connect();
          const histogram = newHistogram();
          let failed = 0;
          const total = Math.round(rate * seconds);
          const bar = progressBar(`linger ${lingerMs} ms, ${rate} msg/s #${rep}`, total);
          const value = JSON.stringify({ v: 1, roomId: rooms[0], clientMsgId: 'bench-000000', senderId: 'bench', payload: { n: 0, t: Date.now(), pad: 'x'.repeat(48) }, sentAt: new Date().toISOString() });
          const pending: Array<Promise<void>> = [];
          const started = performance.now();
          let sent = 0;
          while (sent < total) {
            const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate) + 1);
            for (; sent < due; sent++) {
              const scheduled = started + (sent / rate) * 1000;
              pending.push(
                producer.send(topic, [{ roomId: rooms[sent % rooms.length], value }]).then(
                  () => recordMs(histogram, performance.now() - scheduled),
                  () => void failed++,
                ),
              );
            }
            bar.update(sent);
            await new Promise((resolve) => setTimeout(resolve, 1));
          }
          await Promise.all(pending);
          bar.stop();
          await producer.disconnect();
          runs.push({ lingerMs, rate, rep, ack: summarize(histogram), failed });
          if (rep === options.reps) lastCdf.set(`linger ${lingerMs} ms, ${rate} msg/s`, cdf(histogram));
        }
      }
    }
  } finally {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  }
  const rows = rates.flatMap((rate) =>
    LINGERS_MS.map((lingerMs) => {
      const of = runs.filter((r) => r.rate === rate && r.lingerMs === lingerMs);
      const m = (f: (r: LingerRun) => number) => median(of.map(f));
      return [rate, lingerMs, m((r) => r.ack.p50), m((r) => r.ack.p90), m((r) => r.ack.p99), m((r) => r.ack.max), of.reduce((s, r) => s + r.failed, 0)];
    }),
  );
  return {
    title: `RoomProducer single sends to ${PARTITIONS} partitions, ${seconds} s per rate and linger, median of ${options.reps}`,
    table: { columns: ['offered msg/s', 'linger ms', 'send → ack p50 ms', 'p90', 'p99', 'max', 'failed'], rows },
    notes: [],
    series: [...lastCdf].map(([name, points]) => ({ name, points })),
    data: { rates, seconds, lingers: LINGERS_MS, runs },
  };
}
