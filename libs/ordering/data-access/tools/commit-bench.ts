/**
 * How many PostgreSQL round trips a worker batch costs, and how many rows/s one partition's
 * commits reach, on a throw-away database of the local server. Not a test (no assertions); the
 * figures go into the report that changes the batch path.
 *
 *   BENCH_MODE=folded|separate TS_NODE_PROJECT=tsconfig.base.json npx ts-node --transpile-only -O '{"rootDir":"."}' \
 *     -r tsconfig-paths/register libs/ordering/data-access/tools/commit-bench.ts [batches=400] [batchSize=100] [rooms=50]
 *
 * Each batch does what the ordering worker does per batch: commitBatch (fence, dedupe lookup,
 * heads, inserts, position) and then records the publish, either as a separate markPublished
 * (the v1 worker) or folded into the next batch's commit (`publishedOffset`), with one
 * markPublished at the end. Round trips are counted at node-postgres (every query() call).
 */
import { randomBytes } from 'node:crypto';
import type { Message } from '@seqcast/contracts';
import { Client } from 'pg';
import { idempotencyKey, type SequencedBatch } from '@seqcast/ordering-domain';
import { openDatabase } from '@seqcast/persistence';
import { PostgresSequencerStore } from '../src/lib/postgres-sequencer.store';

const [batches = 400, batchSize = 100, roomCount = 50] = process.argv.slice(2).map(Number);
const folded = process.env['BENCH_MODE'] !== 'separate';
const serverUrl = process.env['SEQCAST_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

let roundTrips = 0;
const query = Client.prototype.query;
Client.prototype.query = function counted(this: Client, ...args: unknown[]) {
  roundTrips++;
  return (query as (...a: unknown[]) => unknown).apply(this, args);
} as typeof Client.prototype.query;

async function admin(sql: string): Promise<void> {
  const client = new Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  const name = `seqcast_bench_${randomBytes(4).toString('hex')}`;
  await admin(`CREATE DATABASE "${name}"`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const dataSource = await openDatabase({ url: url.toString(), runMigrations: true });
  try {
    const store = new PostgresSequencerStore(dataSource);
    const claim = await store.claim({ topic: 'bench', partition: 0, owner: 'bench', initialOffset: 0 });
    const rooms = Array.from({ length: roomCount }, (_, i) => `bench-room-${i}`);
    let offset = 0;
    let published = 0;
    const before = roundTrips;
    const started = process.hrtime.bigint();
    for (let b = 0; b < batches; b++) {
      const from = offset;
      const items = Array.from({ length: batchSize }, (_, i) => ({
        roomId: rooms[(from + i) % rooms.length],
        senderId: 'bench',
        clientMsgId: `m-${from + i}`,
        offset: from + i,
      }));
      offset += batchSize;
      const write = {
        fromOffset: from,
        nextOffset: offset,
        roomIds: [...new Set(items.map((i) => i.roomId))],
        ids: items.map(({ roomId, senderId, clientMsgId }) => ({ roomId, senderId, clientMsgId })),
        ...(folded ? { publishedOffset: published } : {}),
        sequence(known: { stored: ReadonlyMap<string, unknown>; heads: ReadonlyMap<string, number> }): SequencedBatch {
          const heads = new Map(known.heads);
          const now = new Date().toISOString();
          const messages: Message[] = items
            .filter((i) => !known.stored.has(idempotencyKey(i)))
            .map((i) => {
              const prevSeq = heads.get(i.roomId) ?? null;
              heads.set(i.roomId, i.offset);
              return {
                roomId: i.roomId,
                seq: i.offset,
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
        },
      };
      const outcome = await store.commitBatch(claim, write);
      if (outcome.status !== 'committed') throw new Error(`fenced: ${outcome.reason}`);
      // The events would be produced here; then the publish is recorded.
      published = offset;
      if (!folded && !(await store.markPublished(claim, published))) throw new Error('fenced on markPublished');
    }
    if (folded && !(await store.markPublished(claim, published))) throw new Error('fenced on markPublished');
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const trips = roundTrips - before;
    console.log(
      JSON.stringify({
        mode: folded ? 'folded' : 'separate',
        batches,
        batchSize,
        rooms: roomCount,
        seconds: Number(seconds.toFixed(3)),
        rowsPerSecond: Math.round((batches * batchSize) / seconds),
        batchesPerSecond: Math.round(batches / seconds),
        roundTripsPerBatch: Number((trips / batches).toFixed(2)),
      }),
    );
  } finally {
    await dataSource.destroy();
    await admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
