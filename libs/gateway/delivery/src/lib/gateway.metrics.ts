/**
 * The edge-gateway's Prometheus metrics, on prom-client's default registry (served by
 * MetricsModule at GET /metrics). Defined once per process: every instance of the delivery
 * services shares them. Point-in-time gauges (subscriptions, backlogs, cache) are computed at
 * scrape time from the live state of every registered source, so they cost nothing per message.
 */
import { Counter, Gauge, Histogram } from 'prom-client';

/** What a running SubscriptionService reports at scrape time. */
export interface GaugeSource {
  subscriptions: number;
  subscribedRooms: number;
  maxBacklogMessages: number;
  maxBacklogBytes: number;
  unackedMessages: number;
  cachedRooms: number;
  cachedMessages: number;
  cachedBytes: number;
}

const sources = new Set<() => GaugeSource>();

/** Registers a live-state source for the scrape-time gauges; returns its unregister function. */
export function registerGaugeSource(source: () => GaugeSource): () => void {
  sources.add(source);
  return () => sources.delete(source);
}

function collectFrom(pick: (s: GaugeSource) => number, combine: 'sum' | 'max'): number {
  let value = 0;
  for (const source of sources) {
    const v = pick(source());
    value = combine === 'sum' ? value + v : Math.max(value, v);
  }
  return value;
}

function scrapeGauge(name: string, help: string, pick: (s: GaugeSource) => number, combine: 'sum' | 'max'): Gauge {
  return new Gauge({
    name,
    help,
    collect() {
      this.set(collectFrom(pick, combine));
    },
  });
}

/** Socket.IO's disconnect reasons plus the gateway's own; anything else is `other` (bounded label set). */
export const DISCONNECT_REASONS = new Set([
  'transport_close',
  'transport_error',
  'ping_timeout',
  'parse_error',
  'forced_close',
  'forced_server_close',
  'server_shutting_down',
  'client_namespace_disconnect',
  'server_namespace_disconnect',
  'slow_consumer',
  'server_restart',
]);

export function disconnectReasonLabel(reason: string): string {
  const label = reason.trim().toLowerCase().replace(/\s+/g, '_');
  return DISCONNECT_REASONS.has(label) ? label : 'other';
}

/** Why a delivery did not happen as such (`poison_event` is the only one no client ever gets). */
export type DropReason = 'emit_failed' | 'disconnected' | 'buffer_overflow' | 'poison_event' | 'dispatch_failed';
export type InvalidAckReason = 'malformed' | 'not_subscribed' | 'beyond_delivered';
export type HistoryReadKind = 'epoch' | 'head' | 'page';

export const gatewayMetrics = {
  activeConnections: new Gauge({
    name: 'seqcast_gateway_active_connections',
    help: 'Socket.IO connections currently open on this gateway',
  }),
  connects: new Counter({
    name: 'seqcast_gateway_connects_total',
    help: 'Socket.IO connections accepted (authenticated); rate() shows reconnect spikes',
  }),
  connectRejections: new Counter({
    name: 'seqcast_gateway_connect_rejections_total',
    help: 'Handshakes refused, by connect_error message',
    labelNames: ['reason'] as const,
  }),
  disconnects: new Counter({
    name: 'seqcast_gateway_disconnects_total',
    help: 'Socket.IO connections closed, by reason',
    labelNames: ['reason'] as const,
  }),
  resumes: new Counter({
    name: 'seqcast_gateway_resumes_total',
    help: 'subscribe requests with afterSeq (a client resuming from its cursor)',
  }),
  replayedMessages: new Counter({
    name: 'seqcast_gateway_replayed_messages_total',
    help: 'Messages delivered from history (room cache or PostgreSQL): resumes and gap repairs',
  }),
  subscriptions: scrapeGauge(
    'seqcast_gateway_subscriptions',
    'Socket-room subscriptions currently held',
    (s) => s.subscriptions,
    'sum',
  ),
  subscribedRooms: scrapeGauge(
    'seqcast_gateway_subscribed_rooms',
    'Rooms with at least one subscriber on this gateway',
    (s) => s.subscribedRooms,
    'sum',
  ),
  deliveryLatency: new Histogram({
    name: 'seqcast_gateway_delivery_latency_seconds',
    help: 'Live deliveries: time from the message sentAt (ingest accepted it) to its emit on a socket',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  }),
  deliveredMessages: new Counter({
    name: 'seqcast_gateway_delivered_messages_total',
    help: 'Messages emitted to sockets, by kind (live, replay, redelivery)',
    labelNames: ['kind'] as const,
  }),
  redeliveries: new Counter({
    name: 'seqcast_gateway_redeliveries_total',
    help: 'Messages re-sent because no ack covered them within the ack timeout',
  }),
  slowConsumerKicks: new Counter({
    name: 'seqcast_gateway_slow_consumer_kicks_total',
    help: 'Sockets disconnected with slow_consumer because their backlog passed the bound',
  }),
  droppedDeliveries: new Counter({
    name: 'seqcast_gateway_dropped_deliveries_total',
    help: 'Messages not delivered as such, by reason (except poison_event the client gets them later by replay)',
    labelNames: ['reason'] as const,
  }),
  invalidAcks: new Counter({
    name: 'seqcast_gateway_invalid_acks_total',
    help: 'ack frames ignored, by reason',
    labelNames: ['reason'] as const,
  }),
  maxBacklogMessages: scrapeGauge(
    'seqcast_gateway_max_backlog_messages',
    'Largest socket backlog (unacked messages or queued transport packets) right now',
    (s) => s.maxBacklogMessages,
    'max',
  ),
  maxBacklogBytes: scrapeGauge(
    'seqcast_gateway_max_backlog_bytes',
    'Largest socket backlog in bytes (unacked message bytes or transport buffer) right now',
    (s) => s.maxBacklogBytes,
    'max',
  ),
  unackedMessages: scrapeGauge(
    'seqcast_gateway_unacked_messages',
    'Messages delivered and not yet acknowledged, all sockets',
    (s) => s.unackedMessages,
    'sum',
  ),
  historyReads: new Counter({
    name: 'seqcast_gateway_history_reads_total',
    help: 'Reads sent to PostgreSQL, by kind (epoch, head, page)',
    labelNames: ['kind'] as const,
  }),
  historyReadsShared: new Counter({
    name: 'seqcast_gateway_history_reads_shared_total',
    help: 'Reads answered by joining an identical read already in flight (single-flight), by kind',
    labelNames: ['kind'] as const,
  }),
  roomCacheHits: new Counter({
    name: 'seqcast_gateway_room_cache_hits_total',
    help: 'History pages (and heads) answered from the in-memory room cache',
  }),
  cachedRooms: scrapeGauge(
    'seqcast_gateway_room_cache_rooms',
    'Rooms with recent messages cached',
    (s) => s.cachedRooms,
    'sum',
  ),
  cachedMessages: scrapeGauge(
    'seqcast_gateway_room_cache_messages',
    'Messages held in the room cache',
    (s) => s.cachedMessages,
    'sum',
  ),
  cachedBytes: scrapeGauge(
    'seqcast_gateway_room_cache_bytes',
    'JSON bytes of the messages held in the room cache',
    (s) => s.cachedBytes,
    'sum',
  ),
  eventsConsumerLag: new Gauge({
    name: 'seqcast_gateway_events_consumer_lag',
    help: 'Events-topic records behind the log end, per partition, as of the last batch',
    labelNames: ['partition'] as const,
  }),
  eventsReceiveDelay: new Histogram({
    name: 'seqcast_gateway_events_receive_delay_seconds',
    help:
      'Events-topic records: time from the record CreateTime (the ordering worker producing it) to the ' +
      'gateway handling its batch; the Kafka part of the gateway hop (produce, broker, fetch cycle)',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  }),
  draining: new Gauge({
    name: 'seqcast_gateway_draining',
    help: '1 while this gateway drains its sockets for shutdown',
  }),
};

// Known label values start at 0, so dashboards see a flat line (and rate() works) before the
// first event instead of "no data".
for (const reason of DISCONNECT_REASONS) gatewayMetrics.disconnects.inc({ reason }, 0);
gatewayMetrics.disconnects.inc({ reason: 'other' }, 0);
for (const reason of ['unauthorized', 'server_draining', 'server_busy']) gatewayMetrics.connectRejections.inc({ reason }, 0);
for (const kind of ['live', 'replay', 'redelivery']) gatewayMetrics.deliveredMessages.inc({ kind }, 0);
const dropReasons: DropReason[] = ['emit_failed', 'disconnected', 'buffer_overflow', 'poison_event', 'dispatch_failed'];
for (const reason of dropReasons) gatewayMetrics.droppedDeliveries.inc({ reason }, 0);
const ackReasons: InvalidAckReason[] = ['malformed', 'not_subscribed', 'beyond_delivered'];
for (const reason of ackReasons) gatewayMetrics.invalidAcks.inc({ reason }, 0);
const readKinds: HistoryReadKind[] = ['epoch', 'head', 'page'];
for (const kind of readKinds) {
  gatewayMetrics.historyReads.inc({ kind }, 0);
  gatewayMetrics.historyReadsShared.inc({ kind }, 0);
}
