/**
 * SSE backpressure against the real broker and PostgreSQL: a reader whose connection stops
 * draining (frozen by a loopback proxy) passes the gateway's backlog bound and its stream is
 * ended as slow_consumer, exactly as a socket would be kicked, while a healthy stream of the same
 * room receives every message in order.
 */
import type { Message } from '@seqcast/contracts';
import { waitFor } from '@seqcast/testing';
import { EventSource } from 'eventsource';
import { GatewayHarness, metricValue, room, TcpProxy } from '../testing';
import { SseStreams } from './sse/sse-streams.service';

const MAX_BACKLOG_BYTES = 256 * 1024;
/** Large messages fill the kernel's socket buffers quickly, so the bound is what stops the stream. */
const PAYLOAD = 'x'.repeat(64 * 1024);

let gw: GatewayHarness;
let proxy: TcpProxy;
let healthy: EventSource | undefined;

beforeAll(async () => {
  gw = await GatewayHarness.start({
    subscriptions: { delivery: { maxBacklogMessages: 50, maxBacklogBytes: MAX_BACKLOG_BYTES } },
    sse: { heartbeatMs: 60_000, retryMs: 100 },
  });
  proxy = await TcpProxy.start(gw.port);
});

afterAll(async () => {
  healthy?.close();
  await proxy?.close();
  await gw?.stop();
});

it('ends a stream that stops reading with slow_consumer; a healthy stream of the room gets everything', async () => {
  const roomId = room('team-sse-slow');
  const token = gw.token([roomId]);
  const received: Message[] = [];
  healthy = new EventSource(`${gw.url}/v1/rooms/${roomId}/events?access_token=${token}`);
  healthy.addEventListener('message', (event) => received.push(JSON.parse(event.data) as Message));
  const stalled = await fetch(`${proxy.url}/v1/rooms/${roomId}/events`, { headers: { Authorization: `Bearer ${token}` } });
  expect(stalled.status).toBe(200);
  const streams = gw.app.get(SseStreams);
  await waitFor(() => streams.size === 2, { what: 'both streams' });
  const kicksBefore = await metricValue('seqcast_gateway_sse_streams_ended_total', { reason: 'slow_consumer' });

  proxy.freeze();
  const sent: Message[] = [];
  while (streams.size === 2 && sent.length < 4_000) {
    const batch = gw.sequence(roomId, 2);
    for (const m of batch) m.payload = { text: PAYLOAD };
    await gw.commit(batch);
    await gw.publish(batch);
    sent.push(...batch);
    // Let the healthy stream keep up, so only the stalled one can be behind.
    await waitFor(() => received.length >= sent.length, { what: 'the healthy stream' });
  }
  await waitFor(() => streams.size === 1, { what: 'the stalled stream to be ended' });
  expect(healthy?.readyState).toBe(EventSource.OPEN);
  expect(await metricValue('seqcast_gateway_sse_streams_ended_total', { reason: 'slow_consumer' })).toBe(kicksBefore + 1);
  expect(received.map((m) => m.seq)).toEqual(sent.map((m) => m.seq));
  await stalled.body?.cancel().catch(() => undefined);
});
