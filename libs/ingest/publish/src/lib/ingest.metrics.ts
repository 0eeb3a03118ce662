/**
 * The ingest API's Prometheus metrics, on prom-client's default registry (served by the app's
 * MetricsModule). Defined once per process at import; tests compare before/after values.
 */
import { publishMetrics } from '@seqcast/publish-core';
import { Counter } from 'prom-client';

export const ingestMetrics = {
  // The write path's series (accepted, duplicates, produce latency, limit rejections) are shared
  // with the gateway's socket publish: one definition, in @seqcast/publish-core.
  ...publishMetrics,
  /** Requests answered with an error, by the protocol's error code. */
  rejectedRequests: new Counter({
    name: 'seqcast_ingest_rejected_requests_total',
    help: 'Requests answered with an error envelope, by error code',
    labelNames: ['code'] as const,
  }),
  /** `route` is the matched route pattern (bounded), `unmatched` when no route took the request. */
  httpRequests: new Counter({
    name: 'seqcast_ingest_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
  }),
};
