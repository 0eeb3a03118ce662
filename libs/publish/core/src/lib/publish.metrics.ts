/**
 * Metrics of the write path, whichever entry point (HTTP on ingest-api, the socket `publish` event
 * on edge-gateway) a message came through. The names keep their `ingest` prefix: they count
 * messages entering the system, and dashboards already use them. Defined once per process at
 * import, on prom-client's default registry.
 */
import { Counter, Histogram } from 'prom-client';

/** Acks from a healthy cluster take milliseconds; the top buckets catch the 10 s send deadline. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export const publishMetrics = {
  /** Messages Kafka acknowledged (a batch counts each of its items): every one got a 202. */
  acceptedMessages: new Counter({
    name: 'seqcast_ingest_accepted_messages_total',
    help: 'Messages acknowledged by Kafka and answered 202 (batch items count one each)',
  }),
  /** Retries this instance answered from the copy it accepted before, without writing them again. */
  duplicateMessages: new Counter({
    name: 'seqcast_ingest_duplicate_messages_total',
    help: 'Messages answered 202 duplicate:true from a copy this instance accepted before (not written again)',
  }),
  /** One observation per acknowledged producer call (one request, single or batch). */
  produceLatency: new Histogram({
    name: 'seqcast_ingest_produce_latency_seconds',
    help: 'Time from handing records to the producer until Kafka acknowledged them (acks=all)',
    buckets: LATENCY_BUCKETS,
  }),
  /** Requests refused by a limit: `publish_rate` (429) or `origin` (403, a browser origin not allowed). */
  limitRejections: new Counter({
    name: 'seqcast_ingest_limit_rejections_total',
    help: 'Requests refused by a configured limit, by limit (publish_rate, origin)',
    labelNames: ['limit'] as const,
  }),
};
