/**
 * GET /metrics after a short, eventful run against the real broker and PostgreSQL: live delivery,
 * a resume, a redelivery, a slow-consumer kick, an invalid ack and a poison event. Every gateway
 * metric must be there with a plausible value.
 */
import { waitFor } from '@seqcast/testing';
import { GatewayHarness, room } from '../testing';

let gw: GatewayHarness;

beforeAll(async () => {
  gw = await GatewayHarness.start({
    http: true,
    subscriptions: { delivery: { ackTimeoutMs: 200, maxBacklogMessages: 40, replayWindowMessages: 10 } },
  });
});

afterAll(async () => {
  await gw?.stop();
});

/** `name{labels} value` lines of the Prometheus text format, by series. */
function parse(text: string): Map<string, number> {
  const series = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    series.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return series;
}

function value(series: Map<string, number>, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const [key, v] of series) {
    const [metric, rest = ''] = key.split('{');
    if (metric !== name) continue;
    if (Object.entries(labels).every(([k, l]) => rest.includes(`${k}="${l}"`))) return v;
  }
  return undefined;
}

describe('GET /metrics', () => {
  it('shows every gateway metric with plausible values after a short run', async () => {
    const roomId = room('team-metrics');
    const history = gw.sequence(roomId, 5);
    await gw.commit(history);
    const steady = await gw.client(['team-*'], { autoAck: true });
    await gw.subscribe(steady.socket, { roomId });
    const resumer = await gw.client(['team-*'], { autoAck: true });
    await gw.subscribe(resumer.socket, { roomId, afterSeq: -1, epoch: gw.epoch });
    const lazy = await gw.client(['team-*']); // never acks: redelivered, then kicked
    await gw.subscribe(lazy.socket, { roomId });
    lazy.socket.emit('ack', { roomId: 'team-not-mine', seq: 1 });

    const live = await gw.commitAndPublish(roomId, 10);
    await waitFor(() => lazy.seqs(roomId).length > 10, { what: 'a redelivery' });
    await gw.commitAndPublish(roomId, 40);
    await waitFor(() => lazy.disconnectReason !== undefined, { what: 'the kick' });
    await gw.producer.send(gw.eventsTopic, [{ roomId, value: 'not json' }]);
    await waitFor(() => steady.seqs(roomId).length >= 50, { what: 'live delivery' });
    expect(steady.seqs(roomId).slice(0, 10)).toEqual(live.map((m) => m.seq));

    let series = new Map<string, number>();
    await waitFor(
      async () => {
        const res = await fetch(`${gw.managementUrl}/metrics`);
        expect(res.status).toBe(200);
        series = parse(await res.text());
        return (value(series, 'seqcast_gateway_dropped_deliveries_total', { reason: 'poison_event' }) ?? 0) >= 1;
      },
      { what: 'the poison event to be counted' },
    );
    const v = (name: string, labels?: Record<string, string>) => value(series, name, labels);

    expect(v('seqcast_gateway_active_connections')).toBe(2);
    expect(v('seqcast_gateway_connects_total')).toBeGreaterThanOrEqual(3);
    expect(v('seqcast_gateway_disconnects_total', { reason: 'slow_consumer' })).toBe(1);
    expect(v('seqcast_gateway_resumes_total')).toBe(1);
    expect(v('seqcast_gateway_replayed_messages_total')).toBeGreaterThanOrEqual(history.length);
    expect(v('seqcast_gateway_subscriptions')).toBe(2);
    expect(v('seqcast_gateway_subscribed_rooms')).toBe(1);
    const count = v('seqcast_gateway_delivery_latency_seconds_count') ?? 0;
    const sum = v('seqcast_gateway_delivery_latency_seconds_sum') ?? 0;
    expect(count).toBeGreaterThanOrEqual(100); // 50 live messages to two or three sockets
    expect(sum / count).toBeGreaterThan(0);
    expect(sum / count).toBeLessThan(5);
    expect(v('seqcast_gateway_delivery_latency_seconds_bucket', { le: '+Inf' })).toBe(count);
    expect(v('seqcast_gateway_delivered_messages_total', { kind: 'live' })).toBeGreaterThanOrEqual(100);
    expect(v('seqcast_gateway_delivered_messages_total', { kind: 'replay' })).toBeGreaterThanOrEqual(history.length);
    expect(v('seqcast_gateway_redeliveries_total')).toBeGreaterThanOrEqual(1);
    expect(v('seqcast_gateway_slow_consumer_kicks_total')).toBe(1);
    expect(v('seqcast_gateway_dropped_deliveries_total', { reason: 'poison_event' })).toBe(1);
    expect(v('seqcast_gateway_invalid_acks_total', { reason: 'not_subscribed' })).toBe(1);
    expect(v('seqcast_gateway_max_backlog_messages')).toBeGreaterThanOrEqual(0);
    expect(v('seqcast_gateway_max_backlog_bytes')).toBeGreaterThanOrEqual(0);
    expect(v('seqcast_gateway_unacked_messages')).toBeGreaterThanOrEqual(0);
    expect(v('seqcast_gateway_history_reads_total', { kind: 'page' })).toBeGreaterThanOrEqual(1);
    expect(v('seqcast_gateway_history_reads_total', { kind: 'head' })).toBeGreaterThanOrEqual(1);
    expect(v('seqcast_gateway_room_cache_messages')).toBeGreaterThanOrEqual(50);
    expect(v('seqcast_gateway_room_cache_bytes')).toBeGreaterThan(0);
    expect(v('seqcast_gateway_draining')).toBe(0);
    const lag = [...series.keys()].filter((k) => k.startsWith('seqcast_gateway_events_consumer_lag{'));
    expect(lag.length).toBeGreaterThanOrEqual(1);
    for (const key of lag) expect(series.get(key)).toBeGreaterThanOrEqual(0);
    // Process defaults and the service label ride along.
    expect(v('process_resident_memory_bytes')).toBeGreaterThan(0);
    expect([...series.keys()].find((k) => k.startsWith('seqcast_gateway_connects_total'))).toContain(
      'service="edge-gateway-int"',
    );
  });
});
