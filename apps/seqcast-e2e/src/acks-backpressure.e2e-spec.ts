/**
 * Issue 3 §2-§3 across real processes: cumulative acks and redelivery, and the backlog bound that
 * disconnects a slow consumer without slowing anybody else down. The gateway runs with a short ack
 * timeout and a small backlog bound so both happen within seconds.
 */
import { waitFor } from '@seqcast/testing';
import { CLEAN, checkDelivery, sumReports } from './support/delivery-check';
import { HttpPublisher, readHistory } from './support/http-publisher';
import { scrapeMetric } from './support/metrics';
import { RawSubscriber } from './support/raw-subscriber';
import { RecordingClient } from './support/recording-client';
import { startStack, type Stack } from './support/stack';
import { TcpBalancer } from './support/tcp-balancer';

const TEST_TIMEOUT_MS = 60_000;
const ACK_TIMEOUT_MS = 1_000;
const MAX_BACKLOG_MESSAGES = 300;

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

describe('acks, redelivery and backpressure across real processes', () => {
  let stack: Stack;
  const cleanup: (() => unknown)[] = [];

  beforeAll(async () => {
    stack = await startStack({
      partitions: 6,
      gatewayEnv: {
        GATEWAY_ACK_TIMEOUT_MS: String(ACK_TIMEOUT_MS),
        GATEWAY_MAX_BACKLOG_MESSAGES: String(MAX_BACKLOG_MESSAGES),
      },
    });
  });

  afterEach(async () => {
    for (const fn of cleanup.splice(0)) await fn();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it(
    'a client that never acks gets redelivery from its first unacked seq; a cumulative ack moves that point on',
    async () => {
      const room = 'ack-room';
      const silent = await RawSubscriber.connect(stack.gateway.url, 'ack-silent', { autoAck: false });
      cleanup.push(() => silent.close());
      await silent.subscribe({ roomId: room });
      const publisher = new HttpPublisher(stack.ingest.url);
      await publisher.stream({ rooms: [room], idPrefix: 'ack', total: 20, batchSize: 20 });

      await waitFor(() => silent.count(room) >= 20, { timeoutMs: 10_000, what: 'the first delivery of 20 messages' });
      const received = () => silent.received.get(room) ?? [];
      const firstSentAt = received()[0].at;
      const original = silent.messages(room).slice(0, 20);

      // Nothing acked: after the ack timeout the gateway sends all 20 again, same seqs, in order.
      await waitFor(() => silent.count(room) >= 40, { timeoutMs: ACK_TIMEOUT_MS * 5, what: 'a redelivery of the 20 unacked messages' });
      const redeliveredAt = received()[20].at;
      expect(silent.messages(room).slice(20, 40)).toEqual(original);
      expect(redeliveredAt - firstSentAt).toBeGreaterThanOrEqual(ACK_TIMEOUT_MS * 0.9);

      // Cumulative ack of the 10th: the next redelivery starts at the 11th.
      silent.ack(room, original[9].seq);
      const before = silent.count(room);
      await waitFor(() => silent.count(room) >= before + 10, { timeoutMs: ACK_TIMEOUT_MS * 10, what: 'a redelivery after the partial ack' });
      const afterPartial = silent.messages(room).slice(before);
      expect(afterPartial.slice(0, 10)).toEqual(original.slice(10));

      // Everything acked: new traffic arrives chained onto the last message, nothing older with it.
      silent.ack(room, original[19].seq);
      silent.autoAck = true;
      const acked = silent.count(room);
      await publisher.stream({ rooms: [room], idPrefix: 'ack-more', total: 5, batchSize: 5 });
      await waitFor(() => silent.messages(room).some((m) => m.clientMsgId === 'ack-more-4'), { timeoutMs: 10_000, what: 'the 5 new messages' });
      const tail = silent.messages(room).slice(acked);
      const fresh = tail.filter((m) => m.seq > original[19].seq);
      expect(fresh.map((m) => m.clientMsgId)).toEqual(['ack-more-0', 'ack-more-1', 'ack-more-2', 'ack-more-3', 'ack-more-4']);
      expect(fresh[0].prevSeq).toBe(original[19].seq);
      const redeliveries = await scrapeMetric(stack.gateway.managementUrl, 'seqcast_gateway_redeliveries_total');
      expect(redeliveries).toBeGreaterThanOrEqual(30);

      console.log(
        `e2e acks/redelivery: 20 messages to a client that never acked, redelivered after ${redeliveredAt - firstSentAt} ms ` +
          `(ack timeout ${ACK_TIMEOUT_MS} ms), identical and in order; after a cumulative ack of the 10th the next ` +
          `redelivery started at the 11th; after acking all, ${tail.length - fresh.length} stale re-sends before the new ` +
          `messages, which chained on; gateway counted ${redeliveries} redelivered messages`,
      );
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'a client that stops reading is kicked as slow_consumer and resumes losslessly; the others in the room are not delayed',
    async () => {
      const room = 'slow-room';
      // Separate network paths: freezing the slow client's path leaves the others' alone.
      const fastPath = await TcpBalancer.start([stack.gateway.port], 'failover');
      const slowPath = await TcpBalancer.start([stack.gateway.port], 'failover');
      cleanup.push(() => fastPath.close(), () => slowPath.close());
      const fast = [0, 1, 2].map((i) => new RecordingClient(`fast-${i}`, { gatewayUrl: fastPath.url, ingestUrl: stack.ingest.url }));
      const slow = new RecordingClient('slow', { gatewayUrl: slowPath.url, ingestUrl: stack.ingest.url });
      for (const app of [...fast, slow]) {
        cleanup.unshift(() => app.close());
        app.connect();
        await app.subscribe([room]);
      }

      const publisher = new HttpPublisher(stack.ingest.url);
      let streaming = true;
      const stream = publisher.stream({ rooms: [room], idPrefix: 'slow', until: () => !streaming, batchSize: 3, intervalMs: 10 });
      const kicksBefore = await scrapeMetric(stack.gateway.managementUrl, 'seqcast_gateway_slow_consumer_kicks_total');
      try {
        await waitFor(() => slow.count(room) >= 200, { timeoutMs: 15_000, what: 'a baseline of 200 messages' });
        const frozenAt = Date.now();
        expect(slowPath.freeze()).toBe(1);
        const publishedAtFreeze = publisher.count;

        // The slow client's backlog grows past the bound: the gateway kicks it, nobody else.
        await waitFor(async () => (await scrapeMetric(stack.gateway.managementUrl, 'seqcast_gateway_slow_consumer_kicks_total')) > kicksBefore, {
          timeoutMs: 20_000,
          intervalMs: 100,
          what: 'the gateway to kick the frozen client',
        });
        const kickedAt = Date.now();
        const publishedAtKick = publisher.count;
        // Every message published while the slow one was stuck already reached the others.
        const duringFreeze = (await readHistory(stack.ingest.url, room)).filter((m) => Date.parse(m.sentAt) >= frozenAt);
        await waitFor(() => fast.every((a) => a.count(room) >= publishedAtKick), { timeoutMs: 10_000, what: 'the fast clients to hold everything so far' });
        expect(slow.count(room)).toBeLessThan(publishedAtKick);

        const thawedAt = Date.now();
        slowPath.thaw();
        await waitFor(() => slow.count(room) >= publishedAtKick, { timeoutMs: 20_000, what: `the slow client to catch up (has ${slow.count(room)})` });
        const caughtUpAt = Date.now();
        await waitFor(() => publisher.count >= publishedAtKick + 150, { timeoutMs: 15_000, what: '150 more messages' });
        streaming = false;
        await stream;

        const history = await waitFor(
          async () => {
            const h = await readHistory(stack.ingest.url, room);
            return h.length >= publisher.count && h;
          },
          { timeoutMs: 15_000, what: 'every accepted message to be stored' },
        );
        await waitFor(() => [...fast, slow].every((a) => a.count(room) >= history.length), { timeoutMs: 20_000, what: 'every client to hold the whole room' });
        const total = sumReports(
          [...fast, slow].map((app) => {
            expect(app.messages(room)).toEqual(history);
            return checkDelivery(app.messages(room), history, null);
          }),
        );
        expect(total).toMatchObject({ ...CLEAN, expected: 4 * history.length });
        expect(slow.states.some((s) => s.state === 'reconnecting' && s.detail?.reason === 'slow_consumer')).toBe(true);
        for (const app of fast) expect(app.stateAt('reconnecting', frozenAt)).toBeUndefined();

        // Latency of the fast clients (ingest accept -> app), before vs while the slow one was stuck.
        const latencies = (from: number, to: number) =>
          fast.flatMap((app) =>
            (app.deliveries.get(room) ?? [])
              .filter(({ message }) => Date.parse(message.sentAt) >= from && Date.parse(message.sentAt) < to)
              .map(({ message, at }) => at - Date.parse(message.sentAt)),
          );
        const baseline = latencies(0, frozenAt);
        const stuck = latencies(frozenAt, kickedAt);
        expect(stuck.length).toBeGreaterThan(0);
        // A room held up by its slowest reader would show the whole freeze (seconds) here.
        expect(percentile(stuck, 99)).toBeLessThan(percentile(baseline, 99) + 1_000);

        console.log(
          `e2e slow consumer: 4 SDK clients on one room, ${history.length} messages; one stopped reading and was kicked as ` +
            `slow_consumer ${kickedAt - frozenAt} ms later (bound ${MAX_BACKLOG_MESSAGES} messages, ${publishedAtKick - publishedAtFreeze} ` +
            `published meanwhile); after it read again it resumed and caught up in ${caughtUpAt - thawedAt} ms; the 3 others' ` +
            `latency p50/p99 ${percentile(baseline, 50)}/${percentile(baseline, 99)} ms before vs ${percentile(stuck, 50)}/` +
            `${percentile(stuck, 99)} ms while it was stuck (${duringFreeze.length} messages); ${total.received} deliveries: ` +
            `loss ${total.lost}, duplicates ${total.duplicates}, order breaks ${total.orderBreaks}`,
        );
      } finally {
        streaming = false;
        await stream.catch(() => undefined);
      }
    },
    TEST_TIMEOUT_MS,
  );
});
