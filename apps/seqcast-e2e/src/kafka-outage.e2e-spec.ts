/**
 * Issue 11 §4: while Kafka is down nothing hangs and nothing needs a restart. The built services as
 * real processes on a broker of this test's own, which the test stops and starts again (the shared
 * broker on 9092 is never touched), with SDK subscribers connected to the gateway throughout:
 *
 * - while the broker is down, every publish is answered 503 `unavailable` with `Retry-After`
 *   (none hangs: each request is bounded by the client's own timeout, well above the server's 10 s
 *   send deadline), the gateway keeps every socket open, and no process exits;
 * - once the broker is back, publishing works again, and the worker and the gateway resume by
 *   themselves: every accepted message is stored once and delivered to every subscriber exactly
 *   once, in order.
 *
 * Printed, not asserted: the slowest 503 during the outage, and how long after the broker was ready
 * the first message published after the outage reached the subscribers.
 */
import type { Message } from '@seqcast/contracts';
import { createDedicatedKafka, type DedicatedKafka, waitFor } from '@seqcast/testing';
import { CLEAN, checkDelivery, sumReports } from './support/delivery-check';
import { e2eToken, HttpPublisher, readHistory } from './support/http-publisher';
import { RecordingClient } from './support/recording-client';
import { startStack, type Stack } from './support/stack';

const ROOMS = ['outage-0', 'outage-1', 'outage-2'];
const SUBSCRIBERS = 2;
/** The client's own bound on one request: past it the request "hung". The server's deadline is 10 s. */
const CLIENT_TIMEOUT_MS = 20_000;

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

interface Attempt {
  status: number;
  retryAfter: string | null;
  ms: number;
}

async function publishOnce(url: string, n: number): Promise<Attempt> {
  const started = Date.now();
  const response = await fetch(`${url}/v1/rooms/outage-probe/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${e2eToken('outage-probe')}` },
    body: JSON.stringify({ clientMsgId: `probe-${n}`, payload: n }),
    signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS),
  });
  await response.arrayBuffer();
  return { status: response.status, retryAfter: response.headers.get('retry-after'), ms: Date.now() - started };
}

describe('Kafka stopped and restarted under subscribers (real processes, own broker)', () => {
  let broker: DedicatedKafka;
  let stack: Stack;
  const apps: RecordingClient[] = [];

  beforeAll(async () => {
    broker = await createDedicatedKafka();
    await broker.start();
    stack = await startStack({ partitions: 3, kafkaBrokers: [broker.broker] });
    for (let i = 0; i < SUBSCRIBERS; i++) {
      const app = new RecordingClient(`outage-app-${i}`, { gatewayUrl: stack.gateway.url, ingestUrl: stack.ingest.url });
      apps.push(app);
      app.connect();
      await app.subscribe(ROOMS);
    }
  }, 300_000);

  afterAll(async () => {
    for (const app of apps) app.close();
    await stack?.stop();
    await broker?.destroy();
  }, 60_000);

  it('answers 503 + Retry-After while the broker is down, keeps sockets open, and resumes by itself once it is back', async () => {
    const publisher = new HttpPublisher(stack.ingest.url);
    await publisher.stream({ rooms: ROOMS, idPrefix: 'before', total: 60, batchSize: 6 });
    await waitFor(() => apps.every((a) => a.count() >= 60), { timeoutMs: 30_000, what: '60 deliveries per subscriber' });

    const stopAt = Date.now();
    await broker.stop();
    const attempts: Attempt[] = [];
    for (let n = 0; n < 8; n++) attempts.push(await publishOnce(stack.ingest.url, n));
    expect(attempts.map(({ status, retryAfter }) => ({ status, retryAfter: retryAfter !== null }))).toEqual(
      attempts.map(() => ({ status: 503, retryAfter: true })),
    );
    // The gateway kept every socket: nobody had to reconnect.
    expect(apps.map((a) => a.stateAt('reconnecting', stopAt))).toEqual(apps.map(() => undefined));
    expect([stack.ingest, stack.worker, stack.gateway].filter((s) => !s.running).map((s) => s.label)).toEqual([]);

    await broker.start();
    const readyAt = Date.now();
    await publisher.stream({ rooms: ROOMS, idPrefix: 'after', total: 60, batchSize: 6 });
    const firstAfter = await waitFor(
      () => {
        const times = apps.flatMap((a) =>
          ROOMS.flatMap((r) => (a.deliveries.get(r) ?? []).filter((d) => d.message.clientMsgId.startsWith('after-')).map((d) => d.at)),
        );
        return times.length > 0 && Math.min(...times);
      },
      { timeoutMs: 60_000, what: 'a message published after the outage to be delivered' },
    );

    const histories = await waitFor(
      async () => {
        const read = new Map(await Promise.all(ROOMS.map(async (r) => [r, await readHistory(stack.ingest.url, r)] as const)));
        return [...read.values()].reduce((n, h) => n + h.length, 0) >= publisher.count && read;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: `all ${publisher.count} accepted messages to be stored` },
    );
    for (const roomId of ROOMS) {
      expect((histories.get(roomId) ?? []).map((m) => m.clientMsgId).sort()).toEqual(publisher.idsOf(roomId).sort());
    }
    const stored = [...histories.values()].reduce((n, h) => n + h.length, 0);
    await waitFor(() => apps.every((a) => a.count() >= stored), {
      timeoutMs: 60_000,
      what: `every subscriber to hold ${stored} messages (have ${apps.map((a) => a.count()).join('/')})`,
    });
    const total = sumReports(
      apps.flatMap((app) =>
        ROOMS.map((roomId) => {
          const history: Message[] = histories.get(roomId) ?? [];
          expect(app.messages(roomId)).toEqual(history);
          return checkDelivery(app.messages(roomId), history, null);
        }),
      ),
    );
    expect(total).toMatchObject({ ...CLEAN, expected: SUBSCRIBERS * stored });
    expect(apps.map((a) => a.stateAt('reconnecting', stopAt))).toEqual(apps.map(() => undefined));

    console.log(
      `e2e Kafka outage: ${attempts.length} publishes while the broker was down all 503 + Retry-After: the first in ` +
        `${seconds(attempts[0].ms)} (it finds the broker gone), the others in at most ` +
        `${Math.max(...attempts.slice(1).map((a) => a.ms))} ms; after the restart the first ` +
        `new message reached a subscriber ${seconds(firstAfter - readyAt)} after the broker was ready ` +
        `(${publisher.retries} publish retries); ${total.received} deliveries, loss ${total.lost}, duplicates ` +
        `${total.duplicates}, order breaks ${total.orderBreaks}; no subscriber reconnected`,
    );
  }, 420_000);
});
