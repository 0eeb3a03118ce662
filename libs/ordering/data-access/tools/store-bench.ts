/**
 * What PostgresSequencerStore.commitBatch costs, alone: no Kafka, no worker, a throw-away database
 * of the local server opened the way the worker opens it (openDatabase, its pool size). Each case
 * runs L lanes (one claimed partition each, like the worker's partition lanes) committing batches
 * of B messages back to back for a few seconds, and reports commit p50/p99 and commits/s, the two
 * statements' own times (as node-postgres sees them, so without pool waits), how often a commit
 * waited for a pool connection, and what the database's backends were doing (pg_stat_activity
 * wait events sampled every few ms). Not a test: nothing is asserted.
 *
 *   node -r ./tools/bench/register.cjs libs/ordering/data-access/tools/store-bench.ts \
 *     [--seconds 3] [--lanes 1,12] [--batches 1,10] [--rooms 50] [--pool 10] \
 *     [--prefill 0] [--analyze] [--set plan_cache_mode=force_custom_plan ...] [--group] [--json]
 *
 * `--group` commits through `Gatherer` below, the worker's group commit reduced (the batches that
 * are ready together go in one commitBatches transaction, up to two groups in flight, as
 * CommitGroups in libs/ordering/sequencer does; imported from there it would make the two projects
 * depend on each other); `commits` then counts batches, as the worker's batch metric does.
 *
 * `--prefill N` stores N messages of other rooms in the epoch first (a database that has been running a while;
 * `--analyze` then gives the planner statistics about them, as autovacuum eventually does).
 *
 * `npm run bench -- sequencer-store` runs it (and `--smoke` with tiny numbers). `--set` applies
 * ALTER DATABASE … SET on the throw-away database only (diagnosis: synchronous_commit=off shows
 * what the commit's WAL flush costs, plan_cache_mode what the generic plans cost).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Message } from '@seqcast/contracts';
import {
  type BatchWrite,
  type CommitOutcome,
  idempotencyKey,
  type KnownState,
  type PartitionClaim,
  type SequencedBatch,
} from '@seqcast/ordering-domain';
import { openDatabase } from '@seqcast/persistence';
import { Client, type Pool } from 'pg';
import { PostgresSequencerStore } from '../src/lib/postgres-sequencer.store';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '3' },
    lanes: { type: 'string', default: '1,12' },
    batches: { type: 'string', default: '1,10' },
    rooms: { type: 'string', default: '50' },
    pool: { type: 'string', default: '10' },
    prefill: { type: 'string', default: '0' },
    analyze: { type: 'boolean', default: false },
    set: { type: 'string', multiple: true, default: [] },
    json: { type: 'boolean', default: false },
    group: { type: 'boolean', default: false },
  },
});
const seconds = Number(values.seconds);
const laneCounts = values.lanes.split(',').map(Number);
const batchSizes = values.batches.split(',').map(Number);
const roomCount = Number(values.rooms);
const poolSize = Number(values.pool);
const prefill = Number(values.prefill);

/** Time of every statement by its prepared name, from query() to its result (no pool wait in it). */
const statementMs = new Map<string, number[]>();
const originalQuery = Client.prototype.query;
Client.prototype.query = function timed(this: Client, ...args: unknown[]) {
  const config = args[0] as { name?: string } | string;
  const name = typeof config === 'object' ? config?.name : undefined;
  const callbackAt = args.findIndex((a) => typeof a === 'function');
  if (name) {
    const started = performance.now();
    const record = () => {
      const list = statementMs.get(name) ?? [];
      list.push(performance.now() - started);
      statementMs.set(name, list);
    };
    // pg-pool passes a callback; a direct client.query() gets a promise.
    if (callbackAt >= 0) {
      const callback = args[callbackAt] as (...a: unknown[]) => unknown;
      args[callbackAt] = (...a: unknown[]) => {
        record();
        return callback(...a);
      };
    } else {
      const result = (originalQuery as (...a: unknown[]) => unknown).apply(this, args);
      if (result instanceof Promise) void result.then(record, () => undefined);
      return result;
    }
  }
  return (originalQuery as (...a: unknown[]) => unknown).apply(this, args);
} as typeof Client.prototype.query;

/** utime + stime of a local process in ms (clock ticks of 10 ms), or NaN when not readable (remote server). */
function processCpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

async function backendPids(sampler: Client, database: string): Promise<number[]> {
  const { rows } = await sampler.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`,
    [database],
  );
  return rows.map((r) => r.pid);
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const round = (n: number, digits = 2) => Number(n.toFixed(digits));

export interface StoreCase {
  lanes: number;
  batchSize: number;
  commits: number;
  commitsPerSecond: number;
  messagesPerSecond: number;
  p50: number;
  p99: number;
  mean: number;
  readP50: number;
  /** The read's p50 over the case's last tenth: does it grow with the table? */
  readP50Last: number;
  writeP50: number;
  /** CPU time per commit of this node process and of the database's backends (when the server is local). */
  nodeCpuMsPerCommit: number;
  serverCpuMsPerCommit: number;
  /** Share of pool.query calls that found every connection busy. */
  poolWaitShare: number;
  /** Sampled backend states of the throw-away database, % of samples of active backends. */
  waits: Record<string, number>;
}

async function runCase(
  store: PostgresSequencerStore,
  pool: Pool,
  sampler: Client,
  database: string,
  claims: PartitionClaim[],
  offsets: number[],
  lanes: number,
  batchSize: number,
): Promise<StoreCase> {
  statementMs.clear();
  const commitMs: number[] = [];
  const waits = new Map<string, number>();
  let activeSamples = 0;
  let queries = 0;
  let queued = 0;
  const poolQuery = pool.query.bind(pool);
  pool.query = ((...args: unknown[]) => {
    queries++;
    if (pool.idleCount === 0 && pool.totalCount >= poolSize) queued++;
    return (poolQuery as (...a: unknown[]) => unknown)(...args);
  }) as typeof pool.query;
  let running = true;
  const sampling = (async () => {
    while (running) {
      const { rows } = await sampler.query<{ w: string }>(
        `SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU') AS w FROM pg_stat_activity
          WHERE datname = $1 AND state = 'active' AND pid <> pg_backend_pid()`,
        [database],
      );
      for (const { w } of rows) waits.set(w, (waits.get(w) ?? 0) + 1);
      activeSamples += rows.length;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  const serverCpuBefore = new Map((await backendPids(sampler, database)).map((pid) => [pid, processCpuMs(pid)]));
  const nodeCpuBefore = process.cpuUsage();
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  const groups = values.group ? new Gatherer(store) : undefined;
  await Promise.all(
    claims.slice(0, lanes).map(async (claim, lane) => {
      // A room's seq belongs to one partition: each lane has rooms of its own.
      const rooms = Array.from({ length: roomCount }, (_, i) => `bench-p${claim.partition}-room-${i}`);
      while (performance.now() < deadline) {
        const from = offsets[lane];
        const items = Array.from({ length: batchSize }, (_, i) => ({
          roomId: rooms[Math.floor(Math.random() * rooms.length)],
          senderId: 'bench',
          clientMsgId: `p${claim.partition}-m${from + i}`,
          offset: from + i,
        }));
        const t0 = performance.now();
        const write = {
          fromOffset: from,
          nextOffset: from + batchSize,
          publishedOffset: from,
          roomIds: [...new Set(items.map((i) => i.roomId))],
          ids: items.map(({ roomId, senderId, clientMsgId }) => ({ roomId, senderId, clientMsgId })),
          sequence: (known: KnownState): SequencedBatch => sequence(claim, items, known),
        };
        const outcome = groups ? await groups.commit(claim, write) : await store.commitBatch(claim, write);
        commitMs.push(performance.now() - t0);
        if (outcome.status !== 'committed') throw new Error(`lane ${lane} fenced: ${outcome.reason}`);
        offsets[lane] = from + batchSize;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const nodeCpu = process.cpuUsage(nodeCpuBefore);
  const serverCpuMs = (await backendPids(sampler, database)).reduce(
    (sum, pid) => sum + processCpuMs(pid) - (serverCpuBefore.get(pid) ?? 0),
    0,
  );
  running = false;
  await sampling;
  pool.query = poolQuery;
  const sorted = [...commitMs].sort((a, b) => a - b);
  const statementP50 = (prefix: string, lastTenth = false) => {
    const times = [...statementMs].filter(([n]) => n.startsWith(prefix)).flatMap(([, l]) => l);
    return percentile(times.slice(lastTenth ? Math.floor(times.length * 0.9) : 0).sort((a, b) => a - b), 50);
  };
  return {
    lanes,
    batchSize,
    commits: commitMs.length,
    commitsPerSecond: Math.round(commitMs.length / elapsed),
    messagesPerSecond: Math.round((commitMs.length * batchSize) / elapsed),
    p50: round(percentile(sorted, 50)),
    p99: round(percentile(sorted, 99)),
    mean: round(commitMs.reduce((s, v) => s + v, 0) / Math.max(1, commitMs.length)),
    readP50: round(statementP50('seqcast_batch_read')),
    readP50Last: round(statementP50('seqcast_batch_read', true)),
    writeP50: round(statementP50('seqcast_batch_write')),
    nodeCpuMsPerCommit: round((nodeCpu.user + nodeCpu.system) / 1000 / Math.max(1, commitMs.length), 3),
    serverCpuMsPerCommit: round(serverCpuMs / Math.max(1, commitMs.length), 3),
    poolWaitShare: round(queued / Math.max(1, queries), 3),
    waits: Object.fromEntries(
      [...waits].sort((a, b) => b[1] - a[1]).map(([w, n]) => [w, round((100 * n) / Math.max(1, activeSamples), 1)]),
    ),
  };
}

/** Group commit as the worker's CommitGroups does it (one batch per lane here, so no partition check). */
class Gatherer {
  private queue: {
    claim: PartitionClaim;
    write: BatchWrite<SequencedBatch>;
    done: (o: CommitOutcome<SequencedBatch>) => void;
    fail: (e: unknown) => void;
  }[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(private readonly store: PostgresSequencerStore) {}

  commit(claim: PartitionClaim, write: BatchWrite<SequencedBatch>): Promise<CommitOutcome<SequencedBatch>> {
    return new Promise((done, fail) => {
      this.queue.push({ claim, write, done, fail });
      if (this.scheduled || this.inFlight >= 2) return;
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.start();
      });
    });
  }

  private start(): void {
    while (this.inFlight < 2 && this.queue.length > 0) {
      const group = this.queue;
      this.queue = [];
      this.inFlight++;
      void this.store
        .commitBatches(group.map(({ claim, write }) => ({ claim, write })))
        .then(
          (outcomes) =>
            group.forEach((m, i) => {
              const o = outcomes[i];
              if (!o || o.status === 'failed') m.fail(o?.error);
              else m.done(o);
            }),
          (error: unknown) => group.forEach((m) => m.fail(error)),
        )
        .finally(() => {
          this.inFlight--;
          this.start();
        });
    }
  }
}

/** What the worker's sequencer does, reduced: skip stored keys, chain each room from its head. */
function sequence(
  claim: PartitionClaim,
  items: { roomId: string; senderId: string; clientMsgId: string; offset: number }[],
  known: KnownState,
): SequencedBatch {
  const heads = new Map(known.heads);
  const now = new Date().toISOString();
  const messages: Message[] = items
    .filter((i) => !known.stored.has(idempotencyKey(i)))
    .map((i) => {
      const seq = (heads.get(i.roomId) ?? 0) + 1;
      const prevSeq = heads.get(i.roomId) ?? null;
      heads.set(i.roomId, seq);
      return {
        roomId: i.roomId,
        seq,
        prevSeq,
        epoch: claim.epoch,
        clientMsgId: i.clientMsgId,
        senderId: i.senderId,
        payload: { n: i.offset, text: 'x'.repeat(40) },
        sentAt: now,
        sequencedAt: now,
      };
    });
  return { messages, fingerprints: messages.map(() => randomBytes(16).toString('base64url')), deadLetters: [] };
}

/** A `seqcast_bench_<random>` database of the local server (SEQCAST_TEST_PG_URL), dropped at the end. */
async function createThrowAwayDatabase(): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const serverUrl = process.env['SEQCAST_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const admin = async (sql: string) => {
    const client = new Client({ connectionString: serverUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  const name = `seqcast_bench_${randomBytes(5).toString('hex')}`;
  await admin(`CREATE DATABASE "${name}"`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), name, drop: () => admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) };
}

export async function main(): Promise<StoreCase[]> {
  const db = await createThrowAwayDatabase();
  const sampler = new Client({ connectionString: db.url });
  try {
    await sampler.connect();
    for (const setting of values.set) {
      const [key, value] = setting.split('=');
      if (!/^[a-z_.]+$/.test(key ?? '')) throw new Error(`--set ${setting}: expected name=value`);
      await sampler.query(`ALTER DATABASE "${db.name}" SET ${key} = '${(value ?? '').replace(/'/g, "''")}'`);
    }
    const dataSource = await openDatabase({ url: db.url, runMigrations: true, poolSize });
    try {
      const store = new PostgresSequencerStore(dataSource);
      if (prefill > 0) {
        // Other partitions' history in the same epoch: what a long-running database holds.
        const epoch = await store.currentEpoch();
        await dataSource.query(
          `INSERT INTO seqcast_messages (epoch, room_id, seq, prev_seq, partition, client_msg_id, sender_id, payload,
                                         payload_fingerprint, sent_at, sequenced_at)
           SELECT $1, 'old-room-' || (i % 1000), i / 1000 + 1, NULLIF(i / 1000, 0), 99999, 'old-' || i, 'bench',
                  '{"text":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}', md5(i::text), now(), now()
             FROM generate_series(0, $2::int - 1) AS i`,
          [epoch, prefill],
        );
      }
      if (values.analyze) await dataSource.query('ANALYZE');
      const pool = (dataSource.driver as unknown as { master: Pool }).master;
      const results: StoreCase[] = [];
      for (const lanes of laneCounts) {
        for (const batchSize of batchSizes) {
          // Fresh claims per case, in partitions of their own, so cases do not share rooms or rows' history.
          const base = results.length * 100;
          const claims: PartitionClaim[] = [];
          for (let p = 0; p < lanes; p++) {
            claims.push(await store.claim({ topic: 'bench', partition: base + p, owner: 'bench', initialOffset: 0 }));
          }
          const offsets = claims.map(() => 0);
          const result = await runCase(store, pool, sampler, db.name, claims, offsets, lanes, batchSize);
          results.push(result);
          if (!values.json) {
            const waits = Object.entries(result.waits)
              .slice(0, 5)
              .map(([w, s]) => `${w} ${s}%`)
              .join(', ');
            console.log(
              `lanes ${String(lanes).padStart(2)} batch ${String(batchSize).padStart(3)}: ` +
                `${result.commitsPerSecond} commits/s (${result.messagesPerSecond} msg/s), ` +
                `commit p50 ${result.p50} ms p99 ${result.p99} ms mean ${result.mean} ms; ` +
                `read p50 ${result.readP50} ms (last tenth ${result.readP50Last}), write p50 ${result.writeP50} ms; ` +
                `CPU per commit: node ${result.nodeCpuMsPerCommit} ms, server ${result.serverCpuMsPerCommit} ms; ` +
                `pool waited ${(result.poolWaitShare * 100).toFixed(1)}%; backends: ${waits}`,
            );
          }
        }
      }
      if (values.json) console.log(JSON.stringify(results));
      return results;
    } finally {
      await dataSource.destroy();
    }
  } finally {
    await sampler.end().catch(() => undefined);
    await db.drop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
