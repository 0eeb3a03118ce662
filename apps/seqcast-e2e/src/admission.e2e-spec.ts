/**
 * Handshake admission with real processes (docs/protocol.md "Busy: server_busy"): a crowd of
 * @seqcast/client apps connects at once to a gateway that admits one handshake at a time
 * (GATEWAY_MAX_HANDSHAKES_IN_FLIGHT=1). The excess is refused `server_busy { retryAfterMs }`, the
 * SDK comes back after the hint, and every app ends up subscribed with the room's messages exactly
 * once, in order.
 */
import { waitFor } from '@seqcast/testing';
import { CLEAN, checkDelivery, sumReports } from './support/delivery-check';
import { HttpPublisher, readHistory } from './support/http-publisher';
import { scrapeMetric } from './support/metrics';
import { RecordingClient } from './support/recording-client';
import { startStack, type Stack } from './support/stack';

const CROWD = 30;
const TEST_TIMEOUT_MS = 90_000;

describe('handshake admission across real processes', () => {
  let stack: Stack;
  const apps: RecordingClient[] = [];

  beforeAll(async () => {
    stack = await startStack({ partitions: 3, gatewayEnv: { GATEWAY_MAX_HANDSHAKES_IN_FLIGHT: '1' } });
  });

  afterAll(async () => {
    for (const app of apps) app.close();
    await stack?.stop();
  });

  it(
    'a crowd connecting at once is refused server_busy, retries after the hint and gets every message once, in order',
    async () => {
      const room = 'admission-room';
      const publisher = new HttpPublisher(stack.ingest.url);
      await publisher.stream({ rooms: [room], idPrefix: 'before', total: 20, batchSize: 10 });
      // Accepted (202) is not yet sequenced: wait for the history to hold them.
      const before = await waitFor(async () => {
        const history = await readHistory(stack.ingest.url, room);
        return history.length >= 20 ? history : undefined;
      }, { what: 'the first 20 messages in the history' });
      const cursor = before[before.length - 1].seq;

      for (let i = 0; i < CROWD; i++) {
        apps.push(new RecordingClient(`crowd-${i}`, { gatewayUrl: stack.gateway.url, ingestUrl: stack.ingest.url }));
      }
      for (const app of apps) app.connect();
      await Promise.all(apps.map((app) => app.subscribe([room])));
      await publisher.stream({ rooms: [room], idPrefix: 'after', total: 50, batchSize: 10 });
      const expected = await waitFor(async () => {
        const after = (await readHistory(stack.ingest.url, room, cursor)).filter((m) => m.clientMsgId.startsWith('after-'));
        return after.length >= 50 ? after : undefined;
      }, { what: 'the 50 later messages in the history' });
      expect(expected).toHaveLength(50);
      await waitFor(() => apps.every((app) => app.messages(room).some((m) => m.seq === expected[expected.length - 1].seq)), {
        what: 'every app to have the last message',
        timeoutMs: 30_000,
      });

      const busy = apps.flatMap((app) => app.states.filter((s) => s.detail?.reason === 'server_busy'));
      const refused = await scrapeMetric(stack.gateway.managementUrl, 'seqcast_gateway_connect_rejections_total', { reason: 'server_busy' });
      const reports = apps.map((app) => checkDelivery(app.messages(room).filter((m) => m.seq > cursor), expected));
      const total = sumReports(reports);
      console.log(
        `admission: ${CROWD} apps, ${busy.length} server_busy retries (gateway refused ${refused}), ` +
          `delays ${Math.min(...busy.map((s) => s.detail?.delayMs ?? 0))}–${Math.max(...busy.map((s) => s.detail?.delayMs ?? 0))} ms; ` +
          `${total.received} delivered, lost ${total.lost}, duplicates ${total.duplicates}, order breaks ${total.orderBreaks}`,
      );
      expect(busy.length).toBeGreaterThan(0);
      expect(refused).toBe(busy.length);
      for (const state of busy) expect(state.detail?.delayMs).toBeGreaterThanOrEqual(100);
      // Refusals are not failures: nobody gave up.
      expect(apps.every((app) => app.client.state === 'connected')).toBe(true);
      expect(apps.flatMap((app) => app.errors)).toEqual([]);
      expect(total).toMatchObject({ ...CLEAN, expected: CROWD * 50 });
    },
    TEST_TIMEOUT_MS,
  );
});
