/**
 * Issue 5 §1: a rolling deploy of each service under load loses nothing. For each service in
 * turn: start the replacement, take the old instance out of its balancer (as Kubernetes removes a
 * terminating pod from a Service) and SIGTERM it, while a publisher streams through the ingest
 * balancer and SDK subscribers read through the gateway balancer. Afterwards every accepted
 * message is stored, and every subscriber holds each room's history exactly once, in order. The
 * summary line gives the longest pause in delivery a subscriber saw around the restart.
 */
import { waitFor } from '@seqcast/testing';
import { CLEAN, checkDelivery, sumReports } from './support/delivery-check';
import { HttpPublisher, readHistory } from './support/http-publisher';
import { longestPause, RecordingClient } from './support/recording-client';
import type { ServiceProcess } from './support/service-process';
import { startStack, type Stack } from './support/stack';
import { TcpBalancer } from './support/tcp-balancer';

const TEST_TIMEOUT_MS = 60_000;
const SUBSCRIBERS = 4;
const DRAIN_SPREAD_MS = 2_000;

/**
 * A drain must end by itself: exit code 0, or SIGTERM re-raised after the shutdown hooks (Nest's
 * default), but never the SIGKILL ServiceProcess.stop() sends when the grace period runs out.
 */
function describeExit(service: ServiceProcess): string {
  expect(service.exit).not.toBeNull();
  expect(service.exit?.signal).not.toBe('SIGKILL');
  if (service.exit?.signal === null) expect(service.exit.code).toBe(0);
  return service.exit?.signal ? `ended by ${service.exit.signal}` : `exited with ${service.exit?.code}`;
}

describe('rolling restart under load', () => {
  let stack: Stack;
  let ingestBalancer: TcpBalancer;
  let gatewayBalancer: TcpBalancer;
  let ingest: ServiceProcess;
  let worker: ServiceProcess;
  let gateways: ServiceProcess[];
  const apps: RecordingClient[] = [];

  beforeAll(async () => {
    // server_restart delays are spread over 2 s instead of the default 10 s, to keep the test short.
    stack = await startStack({ partitions: 6, gateways: 2, gatewayEnv: { GATEWAY_DRAIN_SPREAD_MS: String(DRAIN_SPREAD_MS) } });
    ({ ingest, worker, gateways } = stack);
    gateways = [...gateways];
    ingestBalancer = await TcpBalancer.start([ingest.port], 'failover');
    gatewayBalancer = await TcpBalancer.start(gateways.map((g) => g.port), 'round-robin');
  });

  afterEach(() => {
    for (const app of apps.splice(0)) app.close();
  });

  afterAll(async () => {
    await Promise.all([ingestBalancer?.close(), gatewayBalancer?.close()]);
    await stack?.stop();
  });

  /**
   * Streams to three rooms read by SDK subscribers, runs `restart` once a baseline has been
   * delivered, streams on for a while, then checks every subscriber against history.
   */
  async function underLoad(label: string, restart: () => Promise<string>): Promise<void> {
    const rooms = [0, 1, 2].map((i) => `roll-${label}-${i}`);
    for (let i = 0; i < SUBSCRIBERS; i++) {
      const app = new RecordingClient(`roll-${label}-app-${i}`, { gatewayUrl: gatewayBalancer.url, ingestUrl: ingestBalancer.url });
      apps.push(app);
      app.connect();
      await app.subscribe(rooms);
    }

    const publisher = new HttpPublisher(ingestBalancer.url);
    let streaming = true;
    const stream = publisher.stream({ rooms, idPrefix: label, until: () => !streaming, batchSize: 3, intervalMs: 10 });
    const streamed = stream.catch((error: unknown) => {
      streaming = false;
      throw error;
    });
    const published = () => publisher.count;
    try {
      await waitFor(() => apps.every((a) => a.count() >= 150) || !streaming, { timeoutMs: 15_000, what: 'a baseline of 150 deliveries per subscriber' });
      const baselineStart = Math.min(...apps.map((a) => Math.min(...a.deliveryTimes())));
      const restartAt = Date.now();
      const detail = await restart();
      const restartedAt = Date.now();
      const publishedAtRestart = published();
      await waitFor(() => published() >= publishedAtRestart + 150 || !streaming, { timeoutMs: 20_000, what: '150 more messages after the restart' });
      streaming = false;
      await streamed;

      // A 202 means "in Kafka"; wait until the worker has stored all of it, then compare: every
      // 202 the publisher got is exactly one stored message, and nothing else is.
      const histories = await waitFor(
        async () => {
          const read = new Map(await Promise.all(rooms.map(async (r) => [r, await readHistory(ingest.url, r)] as const)));
          return [...read.values()].reduce((n, h) => n + h.length, 0) >= publisher.count && read;
        },
        { timeoutMs: 20_000, intervalMs: 200, what: `all ${publisher.count} accepted messages to be stored` },
      );
      const stored = [...histories.values()].reduce((n, h) => n + h.length, 0);
      for (const roomId of rooms) {
        expect((histories.get(roomId) ?? []).map((m) => m.clientMsgId).sort()).toEqual(publisher.idsOf(roomId).sort());
      }
      await waitFor(() => apps.every((a) => a.count() >= stored), {
        timeoutMs: 30_000,
        what: `every subscriber to hold ${stored} messages (have ${apps.map((a) => a.count()).join('/')})`,
      });
      const total = sumReports(
        apps.flatMap((app) =>
          rooms.map((roomId) => {
            const history = histories.get(roomId) ?? [];
            expect(app.messages(roomId)).toEqual(history);
            return checkDelivery(app.messages(roomId), history, null);
          }),
        ),
      );
      expect(total).toMatchObject({ ...CLEAN, expected: SUBSCRIBERS * stored });

      const pauses = apps.map((a) => longestPause(a.deliveryTimes(), restartAt, restartedAt));
      const baseline = Math.max(...apps.map((a) => longestPause(a.deliveryTimes(), baselineStart, restartAt)));
      const reconnected = apps.filter((a) => a.stateAt('reconnecting', restartAt) !== undefined).length;
      console.log(
        `e2e rolling restart of ${label}: ${detail}; restart took ${restartedAt - restartAt} ms under a stream of ` +
          `${publisher.count} messages to 3 rooms (${publisher.retries} publish retries); ${SUBSCRIBERS} SDK subscribers ` +
          `(${reconnected} reconnected) got ${total.received}: loss ${total.lost}, duplicates ${total.duplicates}, ` +
          `order breaks ${total.orderBreaks}; longest delivery pause per subscriber ${Math.min(...pauses)}-${Math.max(...pauses)} ms (baseline before the restart: ${baseline} ms)`,
      );
    } finally {
      streaming = false;
      await streamed.catch(() => undefined);
    }
  }

  it(
    'ingest-api: replacement started, old one SIGTERMed while publishing; every 202 is stored and delivered',
    async () => {
      await underLoad('ingest-api', async () => {
        const old = ingest;
        ingest = await stack.spawn('ingest-api');
        ingestBalancer.setUpstreams([ingest.port]);
        await old.stop();
        return `old instance ${describeExit(old)}`;
      });
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'ordering-worker: replacement joins the group, old one SIGTERMed mid-stream; nothing lost or reordered',
    async () => {
      await underLoad('ordering-worker', async () => {
        const old = worker;
        worker = await stack.spawn('ordering-worker');
        await old.stop();
        return `old instance ${describeExit(old)}`;
      });
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'edge-gateway: both instances replaced one by one while subscribers read; they move over and resume losslessly',
    async () => {
      await underLoad('edge-gateway', async () => {
        const exits: string[] = [];
        for (const old of [...gateways]) {
          const next = await stack.spawn('edge-gateway');
          gateways = [...gateways.filter((g) => g !== old), next];
          gatewayBalancer.setUpstreams(gateways.map((g) => g.port));
          await old.stop();
          exits.push(describeExit(old));
        }
        return `2 old instances ${exits.join(', ')}`;
      });
    },
    TEST_TIMEOUT_MS,
  );
});
