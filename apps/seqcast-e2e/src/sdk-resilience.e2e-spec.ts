/**
 * Issue 3 §6 with real processes: @seqcast/client apps behind a TCP balancer in front of two
 * edge-gateways (like a Kubernetes Service), a real broker and PostgreSQL. Whatever happens to
 * the connection or to the gateways (a cut link, kill -9, every gateway replaced while the client
 * is away), each app must end up with exactly the room's history from its cursor on: nothing
 * lost, nothing shown twice, in order. Each test prints one summary line with its figures.
 *
 * The tests share one stack (rooms are disjoint); each first makes sure two gateways are up, so
 * none depends on what an earlier one did to the gateways.
 */
import { MemoryCursorStore } from '@seqcast/client';
import { waitFor } from '@seqcast/testing';
import { CLEAN, checkDelivery, sumReports } from './support/delivery-check';
import { HttpPublisher, readHistory } from './support/http-publisher';
import { RawSubscriber } from './support/raw-subscriber';
import { RecordingClient } from './support/recording-client';
import type { ServiceProcess } from './support/service-process';
import { startStack, type Stack } from './support/stack';
import { TcpBalancer } from './support/tcp-balancer';

const TEST_TIMEOUT_MS = 60_000;

describe('SDK resilience across real processes', () => {
  let stack: Stack;
  let balancer: TcpBalancer;
  let gateways: ServiceProcess[] = [];
  const closers: (() => void)[] = [];

  /** Two running gateways behind the balancer, starting replacements for any that are gone. */
  async function ensureGateways(n = 2): Promise<ServiceProcess[]> {
    gateways = gateways.filter((g) => g.running);
    const missing = n - gateways.length;
    if (missing > 0) gateways.push(...(await Promise.all(Array.from({ length: missing }, () => stack.spawn('edge-gateway')))));
    balancer.setUpstreams(gateways.map((g) => g.port));
    return gateways;
  }

  function client(name: string, store?: MemoryCursorStore): RecordingClient {
    const c = new RecordingClient(name, { gatewayUrl: balancer.url, ingestUrl: stack.ingest.url, cursorStore: store });
    closers.push(() => c.close());
    return c;
  }

  beforeAll(async () => {
    stack = await startStack({ partitions: 6, gateways: 2 });
    gateways = [...stack.gateways];
    balancer = await TcpBalancer.start(gateways.map((g) => g.port), 'round-robin');
  });

  afterEach(() => {
    for (const close of closers.splice(0)) close();
  });

  afterAll(async () => {
    await balancer?.close();
    await stack?.stop();
  });

  it(
    'disconnect mid-stream: after its transport is cut, the SDK delivers all 1,000 messages once, in order',
    async () => {
      await ensureGateways();
      balancer.accept();
      const room = 'sdk-cut-room';
      const app = client('cut-app');
      app.connect();
      await app.subscribe([room]);

      const publisher = new HttpPublisher(stack.ingest.url);
      let cutAt = 0;
      let deliveredAtCut = 0;
      let publishedAtCut = 0;
      let publishedWhileAway = 0;
      await publisher.stream({
        rooms: [room],
        idPrefix: 'cut',
        total: 1000,
        batchSize: 10,
        onBatch: async (published) => {
          if (cutAt === 0 && published >= 500) {
            // Mid-stream for real: the app is receiving when its connection goes.
            await waitFor(() => app.count(room) >= 100, { timeoutMs: 10_000, what: 'the app to receive 100 messages' });
            cutAt = Date.now();
            deliveredAtCut = app.count(room);
            publishedAtCut = published;
            balancer.refuse();
            expect(balancer.sever()).toBe(1);
          } else if (cutAt > 0 && publishedWhileAway === 0 && published >= publishedAtCut + 200) {
            // Away for 200 more messages and at least one failed reconnect attempt.
            await waitFor(() => app.failedAttemptsSince(cutAt) >= 1, { timeoutMs: 10_000, what: 'a refused reconnect attempt' });
            publishedWhileAway = published - publishedAtCut;
            balancer.accept();
          }
        },
      });
      expect(publishedWhileAway).toBeGreaterThan(0);

      await waitFor(() => app.count(room) >= 1000, { timeoutMs: 30_000, what: `1000 messages at the app (has ${app.count(room)})` });
      const reconnectedAt = app.stateAt('connected', cutAt) as number;
      const resumedAt = app.firstDeliveryAfter(reconnectedAt) as number;
      const history = await readHistory(stack.ingest.url, room);
      expect(history.map((m) => m.clientMsgId).sort()).toEqual(publisher.idsOf(room).sort());
      const report = checkDelivery(app.messages(room), history, null);
      expect(report).toMatchObject({ ...CLEAN, expected: 1000, received: 1000 });
      expect(app.messages(room)).toEqual(history);
      expect(deliveredAtCut).toBeLessThan(1000);
      expect(app.failedAttemptsSince(cutAt)).toBeGreaterThanOrEqual(1);

      console.log(
        `e2e disconnect mid-stream: ${history.length} messages; transport cut after ${deliveredAtCut} delivered, ` +
          `gateway unreachable while ${publishedWhileAway} more were published (${app.failedAttemptsSince(cutAt)} refused reconnects); ` +
          `reconnected ${reconnectedAt - cutAt} ms after the cut, delivering again after ${resumedAt - cutAt} ms; ` +
          `app got ${report.received}: loss ${report.lost}, duplicates ${report.duplicates}, order breaks ${report.orderBreaks}`,
      );
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'kill -9 one of two gateways: its clients reconnect through the balancer to the other and resume with zero loss',
    async () => {
      const [victim, survivor] = await ensureGateways();
      const rooms = Array.from({ length: 5 }, (_, i) => `sdk-kill-room-${i}`);
      const apps: { app: RecordingClient; rooms: string[] }[] = [];
      for (let i = 0; i < 10; i++) {
        const app = client(`kill-app-${i}`);
        const mine = [rooms[i % 5], rooms[(i + 1) % 5], rooms[(i + 2) % 5]];
        app.connect();
        // One at a time, so round-robin spreads the clients evenly over both gateways.
        await app.subscribe(mine);
        apps.push({ app, rooms: mine });
      }
      // Round-robin puts half of them on each gateway (exactly, unless an attempt had to be retried).
      const onVictim = balancer.liveConnections(victim.port);
      expect(onVictim).toBeGreaterThan(0);
      expect(onVictim + balancer.liveConnections(survivor.port)).toBe(10);

      const publisher = new HttpPublisher(stack.ingest.url);
      let killedAt = 0;
      await publisher.stream({
        rooms,
        idPrefix: 'kill',
        total: 1500,
        batchSize: 5,
        intervalMs: 5,
        onBatch: async (published) => {
          if (killedAt === 0 && published >= 500) {
            await waitFor(() => apps.every(({ app }) => app.count() > 0), { timeoutMs: 10_000, what: 'every app to be receiving' });
            killedAt = Date.now();
            await victim.kill();
          }
        },
      });

      const histories = new Map<string, Awaited<ReturnType<typeof readHistory>>>();
      const expectedCount = (mine: string[]) => mine.length * (1500 / rooms.length);
      await waitFor(() => apps.every(({ app, rooms: mine }) => app.count() >= expectedCount(mine)), {
        timeoutMs: 30_000,
        what: `every app to hold all its messages (have ${apps.map(({ app }) => app.count()).join('/')})`,
      });
      for (const roomId of rooms) histories.set(roomId, await readHistory(stack.ingest.url, roomId));

      const reports = apps.flatMap(({ app, rooms: mine }) =>
        mine.map((roomId) => {
          const history = histories.get(roomId) ?? [];
          expect(app.messages(roomId)).toEqual(history);
          return checkDelivery(app.messages(roomId), history, null);
        }),
      );
      const total = sumReports(reports);
      expect(total).toMatchObject({ ...CLEAN, expected: 10 * 3 * 300 });

      const affected = apps.filter(({ app }) => app.stateAt('reconnecting', killedAt) !== undefined);
      expect(affected).toHaveLength(onVictim);
      expect(balancer.liveConnections(survivor.port)).toBe(10);
      const reconnectMs = affected.map(({ app }) => (app.stateAt('connected', killedAt) as number) - killedAt);
      const resumeMs = affected.map(({ app }) => (app.firstDeliveryAfter(app.stateAt('connected', killedAt) as number) as number) - killedAt);

      console.log(
        `e2e gateway kill -9: 10 SDK clients x 3 of 5 rooms, ${publisher.count} messages published, one of 2 gateways killed ` +
          `after 500 with ${affected.length} clients on it; they reconnected to the other in ${Math.min(...reconnectMs)}-${Math.max(...reconnectMs)} ms ` +
          `and were delivering again after at most ${Math.max(...resumeMs)} ms; ${total.received} deliveries to apps: ` +
          `loss ${total.lost}, duplicates ${total.duplicates}, order breaks ${total.orderBreaks}`,
      );
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'long absence: a new client with the old cursor store recovers everything from PostgreSQL after every gateway was replaced',
    async () => {
      const before = await ensureGateways();
      const rooms = ['sdk-away-room-0', 'sdk-away-room-1', 'sdk-away-room-2'];
      const store = new MemoryCursorStore();
      const publisher = new HttpPublisher(stack.ingest.url);

      const first = client('away-app-1', store);
      first.connect();
      await first.subscribe(rooms);
      await publisher.stream({ rooms, idPrefix: 'away-a', total: 150, batchSize: 15 });
      await waitFor(() => first.count() >= 150, { timeoutMs: 15_000, what: `150 messages at the first client (has ${first.count()})` });
      first.close();
      const cursors = rooms.map((roomId) => store.get(roomId));
      rooms.forEach((roomId, i) => expect(cursors[i]?.seq).toBe(first.lastSeq(roomId)));

      // Away: half the traffic, every gateway replaced by new processes (empty memory), the rest.
      await publisher.stream({ rooms, idPrefix: 'away-b', total: 1500, batchSize: 100 });
      await Promise.all(before.map((g) => g.stop()));
      const after = await ensureGateways();
      expect(after.some((g) => before.includes(g))).toBe(false);
      await publisher.stream({ rooms, idPrefix: 'away-c', total: 1500, batchSize: 100 });

      const second = client('away-app-2', store);
      const startedAt = Date.now();
      second.connect();
      await second.subscribe(rooms);
      await waitFor(() => second.count() >= 3000, { timeoutMs: 30_000, what: `3000 messages at the returning client (has ${second.count()})` });
      const recoveredMs = Date.now() - startedAt;

      const reports = [];
      for (const [i, roomId] of rooms.entries()) {
        const history = await readHistory(stack.ingest.url, roomId);
        expect(history).toHaveLength(1050);
        // Before the absence: the start of the room; after it: exactly the rest, chained on.
        expect(first.messages(roomId)).toEqual(history.slice(0, 50));
        const missed = history.slice(50);
        expect(second.messages(roomId)).toEqual(missed);
        reports.push(checkDelivery(second.messages(roomId), missed, cursors[i]?.seq));
      }
      const total = sumReports(reports);
      expect(total).toMatchObject({ ...CLEAN, expected: 3000, received: 3000 });
      expect(second.gaps).toBe(0);

      console.log(
        `e2e long absence: 150 messages delivered, client closed; 3000 more published to 3 rooms while both gateways were ` +
          `replaced by new processes; a new client with the same cursor store recovered ${total.received} from PostgreSQL ` +
          `in ${recoveredMs} ms: loss ${total.lost}, duplicates ${total.duplicates} (none of the first 150 again), order breaks ${total.orderBreaks}`,
      );
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'replay/live seam under load: subscribing with an old afterSeq while a publisher streams gives one unbroken chain',
    async () => {
      await ensureGateways();
      const room = 'sdk-seam-room';
      const publisher = new HttpPublisher(stack.ingest.url);
      await publisher.stream({ rooms: [room], idPrefix: 'seam-old', total: 3000, batchSize: 100 });
      const old = await waitFor(
        async () => {
          const sequenced = await readHistory(stack.ingest.url, room);
          return sequenced.length === 3000 && sequenced;
        },
        { timeoutMs: 15_000, intervalMs: 200, what: 'the first 3000 messages to be sequenced' },
      );
      const epoch = old[0].epoch;

      // The stream keeps going while three readers join at different points of it.
      let streaming = true;
      const stream = publisher.stream({ rooms: [room], idPrefix: 'seam-live', until: () => !streaming, batchSize: 5 });
      const livePublished = () => publisher.count - 3000;
      await waitFor(() => livePublished() >= 100, { timeoutMs: 10_000, what: 'the live stream to start' });

      const fromStart = await RawSubscriber.connect(balancer.url, 'seam-raw-1');
      closers.push(() => fromStart.close());
      const ackStart = await fromStart.subscribe({ roomId: room, afterSeq: -1, epoch });

      const store = new MemoryCursorStore();
      store.set(room, { epoch, seq: old[9].seq });
      const app = client('seam-app', store);
      app.connect();
      await app.subscribe([room]);

      const fromMiddle = await RawSubscriber.connect(balancer.url, 'seam-raw-2');
      closers.push(() => fromMiddle.close());
      const ackMiddle = await fromMiddle.subscribe({ roomId: room, afterSeq: old[1499].seq, epoch });

      await waitFor(() => livePublished() >= 1500, { timeoutMs: 20_000, what: '1500 live messages' });
      streaming = false;
      await stream;

      const history = await readHistory(stack.ingest.url, room);
      const head = history[history.length - 1].seq;
      const caughtUp = () => [fromStart.lastSeq(room), app.lastSeq(room), fromMiddle.lastSeq(room)].every((s) => s === head);
      await waitFor(caughtUp, { timeoutMs: 30_000, what: `every reader to reach seq ${head}` });

      const readers = [
        { name: 'raw afterSeq=-1', got: fromStart.messages(room), after: -1, prev: null, ackHead: ackStart.ok ? ackStart.headSeq : -1 },
        { name: 'SDK cursor at #10', got: app.messages(room), after: old[9].seq, prev: old[9].seq, ackHead: -1 },
        { name: 'raw afterSeq=#1500', got: fromMiddle.messages(room), after: old[1499].seq, prev: old[1499].seq, ackHead: ackMiddle.ok ? ackMiddle.headSeq : -1 },
      ];
      const figures = readers.map(({ name, got, after, prev, ackHead }) => {
        const expected = history.filter((m) => m.seq > after);
        const report = checkDelivery(got, expected, prev);
        expect({ name, ...report }).toMatchObject({ name, ...CLEAN, received: expected.length });
        expect(got).toEqual(expected);
        // Proof the seam was under load: part of it came after the head the ack reported.
        const live = ackHead >= 0 ? got.filter((m) => m.seq > ackHead).length : undefined;
        return `${name}: ${report.received}${live === undefined ? '' : ` (${report.received - live} replayed + ${live} after the ack's head)`}`;
      });

      console.log(
        `e2e replay/live seam: room of ${history.length} messages (3000 old + ${history.length - 3000} streamed during the test); ` +
          `${figures.join('; ')}; gaps 0, duplicates 0, order breaks 0 for all three`,
      );
    },
    TEST_TIMEOUT_MS,
  );
});
