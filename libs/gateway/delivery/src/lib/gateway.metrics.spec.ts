import { register } from 'prom-client';
import { disconnectReasonLabel, gatewayMetrics } from './gateway.metrics';

describe('gateway metrics', () => {
  it('maps Socket.IO disconnect reasons to a bounded label set', () => {
    expect(disconnectReasonLabel('ping timeout')).toBe('ping_timeout');
    expect(disconnectReasonLabel('transport close')).toBe('transport_close');
    expect(disconnectReasonLabel('server namespace disconnect')).toBe('server_namespace_disconnect');
    expect(disconnectReasonLabel('something new in socket.io 5')).toBe('other');
  });

  it('exposes labelled counters at 0 before the first event', async () => {
    const text = await register.metrics();
    expect(text).toContain('seqcast_gateway_disconnects_total{reason="ping_timeout"} 0');
    expect(text).toContain('seqcast_gateway_dropped_deliveries_total{reason="poison_event"} 0');
    expect(text).toContain('seqcast_gateway_invalid_acks_total{reason="malformed"} 0');
    expect(gatewayMetrics.deliveryLatency).toBeDefined();
  });
});
