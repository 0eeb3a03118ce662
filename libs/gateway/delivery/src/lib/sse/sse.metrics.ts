/**
 * SSE-specific metrics. Deliveries to SSE streams go through the same DeliverySession as sockets,
 * so seqcast_gateway_delivered_messages_total, _slow_consumer_kicks_total, _subscriptions and the
 * backlog gauges include them; these say how many streams there are and why they end.
 */
import { Counter, Gauge } from 'prom-client';

/** Why a stream ended (bounded label set). */
export type SseEndReason =
  | 'client_closed'
  | 'slow_consumer'
  | 'server_restart'
  | 'token_expired'
  | 'unavailable'
  | 'server_draining';

/** Why a request never became a stream. */
export type SseRefusal = 'invalid_request' | 'unauthorized' | 'forbidden' | 'too_many_connections';

export const sseMetrics = {
  openStreams: new Gauge({
    name: 'seqcast_gateway_sse_streams',
    help: 'Server-sent-events streams currently open on this gateway',
  }),
  streamsOpened: new Counter({
    name: 'seqcast_gateway_sse_streams_opened_total',
    help: 'SSE streams accepted, by where the token came from (header, query) and whether they resumed',
    labelNames: ['token_source', 'resume'] as const,
  }),
  streamsEnded: new Counter({
    name: 'seqcast_gateway_sse_streams_ended_total',
    help: 'SSE streams ended, by reason',
    labelNames: ['reason'] as const,
  }),
  refusals: new Counter({
    name: 'seqcast_gateway_sse_refusals_total',
    help: 'SSE requests answered with an HTTP error instead of a stream, by reason',
    labelNames: ['reason'] as const,
  }),
};

const endReasons: SseEndReason[] = [
  'client_closed',
  'slow_consumer',
  'server_restart',
  'token_expired',
  'unavailable',
  'server_draining',
];
for (const reason of endReasons) sseMetrics.streamsEnded.inc({ reason }, 0);
const refusals: SseRefusal[] = ['invalid_request', 'unauthorized', 'forbidden', 'too_many_connections'];
for (const reason of refusals) sseMetrics.refusals.inc({ reason }, 0);
