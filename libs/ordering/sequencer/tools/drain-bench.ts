/**
 * The ordering worker alone at its capacity: N records are on the messages topic before the worker
 * starts, so neither ingest nor the gateway sets the pace. Timed from the worker's start until every
 * record is stored, and until every event is on the events topic; the rate counts the span between
 * the first stored message and the last event (the join and the first claims are the same work in
 * any version). One fresh database, topics and group per repetition (the harness of the worker's
 * integration tests), against KAFKA_BROKERS and the local PostgreSQL. Not a test: nothing is asserted.
 *
 *   node -r ./tools/bench/register.cjs libs/ordering/sequencer/tools/drain-bench.ts \
 *     [--messages 20000] [--rooms 240] [--partitions 12] [--lanes 12] [--reps 1] [--json]
 */
import { parseArgs } from 'node:util';
import { Logger } from '@nestjs/common';
import type { IngestRecord } from '@seqcast/contracts';
import { OrderingWorkerService } from '../src/lib/ordering-worker.service';
import { workerMetrics } from '../src/lib/worker.metrics';
import { openWorkerFixture } from '../src/testing';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '20000' },
    rooms: { type: 'string', default: '240' },
    partitions: { type: 'string', default: '12' },
    lanes: { type: 'string', default: '12' },
    reps: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
  },
});
const total = Number(values.messages);
const roomCount = Number(values.rooms);
const partitions = Number(values.partitions);
const lanes = Number(values.lanes);

async function metric(name: 'batchDuration' | 'publishDuration'): Promise<{ count: number; sum: number }> {
  const { values: samples } = await workerMetrics[name].get();
  const pick = (suffix: string) =>
    samples.find(
      (s) =>
        s.metricName ===
        `${name === 'batchDuration' ? 'seqcast_worker_batch_duration_seconds' : 'seqcast_worker_events_publish_duration_seconds'}_${suffix}`,
    )?.value ?? 0;
  return { count: pick('count'), sum: pick('sum') };
}

async function poll(what: string, done: () => Promise<boolean>, timeoutMs = 300_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return performance.now();
}

async function rep(index: number) {
  const fixture = await openWorkerFixture('drain-bench', partitions);
  const { kafka, dataSource, topics, groupId, producer } = fixture;
  try {
    const sentAt = new Date().toISOString();
    for (let from = 0; from < total; from += 1_000) {
      const items = Array.from({ length: Math.min(1_000, total - from) }, (_, i) => {
        const n = from + i;
        const record: IngestRecord = {
          v: 1,
          roomId: `drain-${n % roomCount}`,
          clientMsgId: `m${n}`,
          senderId: 'bench',
          payload: { text: `message ${n}`, n },
          sentAt,
        } as IngestRecord;
        return { roomId: record.roomId, value: JSON.stringify(record) };
      });
      await producer.send(topics.messagesTopic, items);
    }
    const admin = kafka.admin();
    await admin.connect();
    const eventsOnTopic = async () =>
      (await admin.fetchTopicOffsets(topics.eventsTopic)).reduce((sum, p) => sum + Number(p.high), 0);
    const stored = async () => Number((await dataSource.query('SELECT count(*) AS n FROM seqcast_messages'))[0].n);
    const tx0 = await metric('batchDuration');
    const pub0 = await metric('publishDuration');
    const worker = new OrderingWorkerService(
      { ...topics, partitions, groupId, partitionsConsumedConcurrently: lanes },
      kafka,
      dataSource,
    );
    const started = performance.now();
    await worker.start();
    const firstStored = await poll('the first stored message', async () => (await stored()) > 0);
    const allStored = await poll(`${total} stored`, async () => (await stored()) >= total);
    const allEvents = await poll(`${total} events`, async () => (await eventsOnTopic()) >= total);
    await worker.stop();
    await admin.disconnect();
    const tx = await metric('batchDuration');
    const pub = await metric('publishDuration');
    const batches = tx.count - tx0.count;
    const result = {
      rep: index,
      messages: total,
      joinToFirstStoredMs: Math.round(firstStored - started),
      storedMs: Math.round(allStored - firstStored),
      eventsMs: Math.round(allEvents - firstStored),
      rate: Math.round(total / ((allEvents - firstStored) / 1000)),
      batches,
      messagesPerBatch: Number((total / batches).toFixed(1)),
      meanTransactionMs: Number((((tx.sum - tx0.sum) / batches) * 1000).toFixed(1)),
      meanPublishMs: Number((((pub.sum - pub0.sum) / (pub.count - pub0.count)) * 1000).toFixed(1)),
    };
    return result;
  } finally {
    await fixture.close();
  }
}

async function main() {
  Logger.overrideLogger(['error']);
  const results = [];
  for (let i = 1; i <= Number(values.reps); i++) {
    const result = await rep(i);
    results.push(result);
    if (!values.json) {
      console.log(
        `#${result.rep} ${result.messages} messages: all stored ${result.storedMs} ms, all events ${result.eventsMs} ms ` +
          `after the first stored message (${result.rate} msg/s; join + first claims ${result.joinToFirstStoredMs} ms); ` +
          `${result.batches} batches of ${result.messagesPerBatch}, mean transaction ${result.meanTransactionMs} ms, ` +
          `mean events publish ${result.meanPublishMs} ms`,
      );
    }
  }
  if (values.json) console.log(JSON.stringify(results));
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
