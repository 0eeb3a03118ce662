import { Counter } from 'prom-client';

/** Which configured limit refused something (docs/protocol.md "Limits"). */
export type GatewayLimit =
  'origin' | 'connections_per_principal' | 'connections_per_ip' | 'subscriptions_per_socket' | 'subscribe_churn';

/** Kept beside the limits rather than in gateway.metrics.ts: one counter, one label per limit. */
export const limitRejections = new Counter({
  name: 'seqcast_gateway_limit_rejections_total',
  help: 'Handshakes, subscribes and unsubscribes refused by a configured limit, by limit',
  labelNames: ['limit'] as const,
});
