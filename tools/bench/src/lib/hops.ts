/**
 * Where a single publish's latency goes, hop by hop, from timestamps the pipeline already writes:
 * the publisher's scheduled send time (in the payload), ingest-api's `sentAt` (stamped when the
 * request has been parsed, authorised and validated), the messages topic record's CreateTime (kafkajs
 * stamps it when it encodes the produce request, i.e. after ingest's coalescing queue), the events
 * topic record's CreateTime (the worker produces only after its database transaction committed) and
 * the arrival at one subscriber. Read after the run from the (fresh, per-run) topics, so measuring
 * costs the pipeline nothing. All clocks are this host's, so the differences are meaningful.
 */
import { Kafka, logLevel } from 'kafkajs';

export interface HopSample {
  /**
   * scheduled send → the request written to the socket: the harness's own part of `http` (its event
   * loop, its agent's socket queue). NaN when the publisher did not record the write.
   */
  send: number;
  /** scheduled send → ingest `sentAt`: the HTTP request through Express/Nest to the service (`send` included). */
  http: number;
  /** Whether the request went out on a connection the publisher had just opened (undefined: not recorded). */
  freshConnection?: boolean;
  /** Scheduled send, ms after the run's start (`since`). */
  atMs?: number;
  /** `sentAt` → messages record CreateTime: waiting in the producer's coalescing queue. */
  produceQueue: number;
  /** messages CreateTime → events CreateTime: broker ack, worker fetch, database transaction. */
  worker: number;
  /** events CreateTime → arrival: broker ack, gateway fetch, fan-out, socket. */
  gateway: number;
  total: number;
}

interface Stamped {
  roomId: string;
  n: number;
  scheduled: number;
  sentAt?: number;
  createdAt: number;
}

/** Every record of `topic` up to the high watermarks at call time, decoded by `decode`. */
export async function readTopic(kafka: Kafka, topic: string, decode: (value: Buffer, timestamp: number) => Stamped | undefined): Promise<Stamped[]> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, Number(o.high)]));
  await admin.disconnect();
  const remaining = new Set([...ends].filter(([, high]) => high > 0).map(([p]) => p));
  const out: Stamped[] = [];
  if (remaining.size === 0) return out;
  const consumer = kafka.consumer({ groupId: `bench-hops-${process.pid}-${Date.now()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`hops: ${topic} not read within 60 s`)), 60_000);
      void consumer.run({
        eachBatch: async ({ batch }) => {
          for (const m of batch.messages) {
            const stamped = m.value ? decode(m.value, Number(m.timestamp)) : undefined;
            if (stamped) out.push(stamped);
          }
          if (Number(batch.lastOffset()) + 1 >= (ends.get(batch.partition) ?? 0)) remaining.delete(batch.partition);
          if (remaining.size === 0) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return out;
}

interface BenchPayload {
  n?: unknown;
  t?: unknown;
}

function fromPayload(roomId: unknown, payload: BenchPayload | undefined): { roomId: string; n: number; scheduled: number } | undefined {
  if (typeof roomId !== 'string' || typeof payload?.n !== 'number' || typeof payload.t !== 'number') return undefined;
  return { roomId, n: payload.n, scheduled: payload.t };
}

/**
 * Per-message hop durations (ms) for the messages that arrived at the recording client and were
 * scheduled at or after `since` (ms since the epoch).
 */
export async function hopSamples(
  brokers: string[],
  topics: { messagesTopic: string; eventsTopic: string },
  arrivals: Array<[string, number, number]>,
  since: number,
  written: Map<string, { at: number; fresh: boolean }> = new Map(),
): Promise<HopSample[]> {
  const kafka = new Kafka({ clientId: 'seqcast-bench-hops', brokers, logLevel: logLevel.NOTHING });
  const key = (roomId: string, n: number) => `${roomId}\u0000${n}`;
  const ingested = new Map<string, Stamped>();
  for (const s of await readTopic(kafka, topics.messagesTopic, (value, timestamp) => {
    const record = JSON.parse(value.toString()) as { roomId?: unknown; payload?: BenchPayload; sentAt?: unknown };
    const base = fromPayload(record.roomId, record.payload);
    if (!base || typeof record.sentAt !== 'string') return undefined;
    return { ...base, sentAt: Date.parse(record.sentAt), createdAt: timestamp };
  })) {
    // A retried publish leaves a second copy; the first is the one the worker sequences.
    if (!ingested.has(key(s.roomId, s.n))) ingested.set(key(s.roomId, s.n), s);
  }
  const sequenced = new Map<string, Stamped>();
  for (const s of await readTopic(kafka, topics.eventsTopic, (value, timestamp) => {
    const record = JSON.parse(value.toString()) as { roomId?: unknown; payload?: BenchPayload };
    const base = fromPayload(record.roomId, record.payload);
    return base && { ...base, createdAt: timestamp };
  })) {
    if (!sequenced.has(key(s.roomId, s.n))) sequenced.set(key(s.roomId, s.n), s);
  }
  const samples: HopSample[] = [];
  for (const [roomId, n, arrived] of arrivals) {
    const i = ingested.get(key(roomId, n));
    const e = sequenced.get(key(roomId, n));
    if (!i || !e || i.sentAt === undefined || i.scheduled < since) continue;
    const write = written.get(key(roomId, n));
    samples.push({
      send: write === undefined ? NaN : write.at - i.scheduled,
      freshConnection: write?.fresh,
      atMs: i.scheduled - since,
      http: i.sentAt - i.scheduled,
      produceQueue: i.createdAt - i.sentAt,
      worker: e.createdAt - i.createdAt,
      gateway: arrived - e.createdAt,
      total: arrived - i.scheduled,
    });
  }
  return samples;
}

const HOPS: Array<Exclude<keyof HopSample, 'freshConnection' | 'atMs'>> = ['send', 'http', 'produceQueue', 'worker', 'gateway', 'total'];

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** p50 / p90 / p99 per hop, in ms rounded to 0.1. */
export function summarizeHops(samples: HopSample[]): Record<string, { p50: number; p90: number; p99: number }> {
  const out: Record<string, { p50: number; p90: number; p99: number }> = {};
  for (const hop of HOPS) {
    const sorted = samples
      .map((s) => s[hop])
      .filter((v) => !Number.isNaN(v))
      .sort((a, b) => a - b);
    const r = (v: number) => Math.round(v * 10) / 10;
    out[hop] = { p50: r(percentile(sorted, 0.5)), p90: r(percentile(sorted, 0.9)), p99: r(percentile(sorted, 0.99)) };
  }
  return out;
}

/**
 * The service's part of the `http` hop (request written → ingest `sentAt`), p50/p99 ms, for requests
 * on connections the publisher had just opened and on reused ones: a new connection waits for the
 * server to accept it (and, once the listen queue overflows, for the kernel's 1 s SYN-ACK retransmit).
 */
export function describeConnections(samples: HopSample[]): string {
  const part = (fresh: boolean) => {
    const values = samples
      .filter((s) => s.freshConnection === fresh && !Number.isNaN(s.send))
      .map((s) => s.http - s.send)
      .sort((a, b) => a - b);
    const r = (v: number) => Math.round(v * 10) / 10;
    return `${values.length} on ${fresh ? 'new' : 'reused'} connections, p50/p99 ${r(percentile(values, 0.5))}/${r(percentile(values, 0.99))}`;
  };
  return `written → sentAt: ${part(true)}; ${part(false)}`;
}

/** The `http` hop's p50/p99 for messages scheduled in the run's first second and after it: a ramp-up transient shows as the first. */
export function describeFirstSecond(samples: HopSample[]): string {
  const part = (first: boolean) => {
    const values = samples
      .filter((s) => s.atMs !== undefined && s.atMs < 1000 === first)
      .map((s) => s.http)
      .sort((a, b) => a - b);
    const r = (v: number) => Math.round(v * 10) / 10;
    return `${first ? 'first second' : 'after it'} ${values.length} messages, p50/p99 ${r(percentile(values, 0.5))}/${r(percentile(values, 0.99))}`;
  };
  return `http hop: ${part(true)}; ${part(false)}`;
}

/** One line for the notes: `http p50/p99 …, produce queue …`. */
export function describeHops(rate: number, samples: HopSample[]): string {
  const s = summarizeHops(samples);
  const parts = HOPS.map((hop) => `${hop} ${s[hop].p50}/${s[hop].p99}`);
  return `${rate} msg/s hops, p50/p99 ms over ${samples.length} messages: ${parts.join(', ')}`;
}

/** A series' value in a Prometheus /metrics text, summed over its labels (0 when absent). */
export function metricValue(metrics: string, series: string): number {
  return metrics
    .split('\n')
    .filter((l) => l.startsWith(`${series} `) || l.startsWith(`${series}{`))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

export interface WorkerBatchStats {
  batches: number;
  messagesPerBatch: number;
  /** Mean batch transaction (fence check, sequencing, inserts, position), ms. */
  transactionMs: number;
  /** Mean publish of a batch's sequenced messages to the events topic, ms. */
  publishMs: number;
  /** Database commits of batches (group commit: fewer than batches); 0 when the worker does not count them. */
  commits?: number;
}

/** The ordering worker's batches between two scrapes of its /metrics. */
export function workerBatchStats(before: string, after: string): WorkerBatchStats {
  const delta = (series: string) => metricValue(after, series) - metricValue(before, series);
  const transactions = delta('seqcast_worker_batch_duration_seconds_count');
  const publishes = delta('seqcast_worker_events_publish_duration_seconds_count');
  const round = (v: number) => Math.round(v * 10) / 10;
  return {
    batches: transactions,
    messagesPerBatch: round(delta('seqcast_worker_sequenced_messages_total') / Math.max(1, transactions)),
    transactionMs: round((1000 * delta('seqcast_worker_batch_duration_seconds_sum')) / Math.max(1, transactions)),
    publishMs: round((1000 * delta('seqcast_worker_events_publish_duration_seconds_sum')) / Math.max(1, publishes)),
    commits: delta('seqcast_worker_commit_groups_total'),
  };
}

/**
 * The gateway hop's Kafka part between two scrapes of the gateway's /metrics: mean time from an
 * events record's CreateTime to the gateway handling its batch (produce round trip, broker, fetch
 * cycle). The rest of the gateway hop is fan-out, the socket and the subscriber.
 */
export function gatewayReceiveMs(before: string, after: string): number {
  const delta = (series: string) => metricValue(after, series) - metricValue(before, series);
  const count = delta('seqcast_gateway_events_receive_delay_seconds_count');
  return Math.round((10_000 * delta('seqcast_gateway_events_receive_delay_seconds_sum')) / Math.max(1, count)) / 10;
}

/** When a stage had written a share of a run's records, in seconds from the run's start. */
export interface StageProgress {
  /** Seconds from the start until 10 %, 50 %, 90 % and all of the stage's records were written. */
  p10: number;
  p50: number;
  p90: number;
  end: number;
  /** Records per second between the 10 % and 90 % marks: the stage's steady rate. */
  rate: number;
  records: number;
}

/**
 * The throughput run's timeline per stage, from the CreateTime of every record of a (fresh, per-run)
 * topic: a stage whose steady rate is below the one before it is where the pipeline queues.
 */
export async function stageProgress(brokers: string[], topic: string, startedAt: number): Promise<StageProgress> {
  const kafka = new Kafka({ clientId: 'seqcast-bench-stages', brokers, logLevel: logLevel.NOTHING });
  const times = (await readTopic(kafka, topic, (_value, timestamp) => ({ roomId: '', n: 0, scheduled: 0, createdAt: timestamp })))
    .map((s) => s.createdAt)
    .sort((a, b) => a - b);
  const at = (q: number) => percentile(times, q);
  const s = (t: number) => Math.round((t - startedAt) / 10) / 100;
  const span = (at(0.9) - at(0.1)) / 1000;
  return {
    p10: s(at(0.1)),
    p50: s(at(0.5)),
    p90: s(at(0.9)),
    end: s(times[times.length - 1] ?? NaN),
    rate: span > 0 ? Math.round((0.8 * times.length) / span) : NaN,
    records: times.length,
  };
}

/** A series' value summed over the lines that carry `label` (e.g. `kind="minor"`) among their labels. */
export function labelledValue(metrics: string, series: string, label: string): number {
  return metrics
    .split('\n')
    .filter((l) => l.startsWith(`${series}{`) && (l.includes(`{${label}`) || l.includes(`,${label}`)))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

/** A Node process's event loop and garbage collector between two scrapes of its /metrics. */
export interface RuntimeStats {
  /** Event-loop delay since the previous scrape (prom-client resets it on every scrape), ms. */
  loopP99Ms: number;
  loopMaxMs: number;
  /** Collections and their total pause, ms, by kind (minor = scavenge, major = mark-sweep). */
  gc: Record<string, { count: number; ms: number }>;
}

/** What stalled a service's event loop during a run: the `http` hop's tail is made of such stalls. */
export function runtimeStats(before: string, after: string): RuntimeStats {
  const round = (v: number) => Math.round(v * 10) / 10;
  const gc: RuntimeStats['gc'] = {};
  for (const kind of ['minor', 'major', 'incremental', 'weakcb']) {
    const value = (metrics: string, suffix: string) => labelledValue(metrics, `nodejs_gc_duration_seconds_${suffix}`, `kind="${kind}"`);
    const count = value(after, 'count') - value(before, 'count');
    if (count > 0) gc[kind] = { count, ms: round(1000 * (value(after, 'sum') - value(before, 'sum'))) };
  }
  return {
    loopP99Ms: round(1000 * metricValue(after, 'nodejs_eventloop_lag_p99_seconds')),
    loopMaxMs: round(1000 * metricValue(after, 'nodejs_eventloop_lag_max_seconds')),
    gc,
  };
}

export function describeRuntime(name: string, stats: RuntimeStats): string {
  const gc = Object.entries(stats.gc).map(([kind, { count, ms }]) => `${kind} ${count}× ${ms} ms`);
  return `${name} loop p99/max ${stats.loopP99Ms}/${stats.loopMaxMs} ms, GC ${gc.join(', ') || 'none'}`;
}
