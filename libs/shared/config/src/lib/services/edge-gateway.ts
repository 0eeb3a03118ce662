/** edge-gateway's own variables (env group `edge-gateway`); it also reads common, kafka, database, auth and origins. */
import { envField } from '../env-field';
import { managementEnv } from '../management';
import { CONSUMER_GROUP_TIMEOUT_DEFAULTS, consumerGroupTimeoutProblems } from './consumer-group';
import { ingestApiEnv } from './ingest-api';

type Env = Record<string, string | undefined>;

const INSTANCE_ID = /^[A-Za-z0-9._-]{1,200}$/;

/**
 * On drain, once a socket's reconnectInMs has passed, the longest its disconnect waits for queued
 * frames to be written (and then for the connection to close before it is cut). Not configurable:
 * it only has to cover a flush on a healthy connection.
 */
export const DRAIN_DISCONNECT_GRACE_MS = 1_000;

/**
 * SIGTERM → forced exit 1 this long after the drain timeout if shutdown has not finished by then
 * (the events consumer leaving its group, Kafka and PostgreSQL disconnecting). A second signal
 * forces it at once.
 */
export const SHUTDOWN_MARGIN_MS = 10_000;

export const edgeGatewayEnv = {
  /** `token_expiring` goes out this long before a socket's token expires (docs/protocol.md "Token lifetime"). */
  GATEWAY_TOKEN_REFRESH_LEAD_MS: envField.int({ default: 60_000, min: 1_000, max: 3_600_000 }),
  PORT: envField.port(3001),
  ...managementEnv(9001),
  HOST: envField.string('0.0.0.0'),
  /** Names this instance's consumer group; defaults to `<hostname>-<pid>` so every process is its own. */
  GATEWAY_INSTANCE_ID: envField
    .string()
    .refine((id) => id === undefined || INSTANCE_ID.test(id), 'must be 1-200 characters of [A-Za-z0-9._-]'),
  GATEWAY_PING_INTERVAL_MS: envField.int({ default: 25_000, min: 1_000, max: 600_000 }),
  GATEWAY_PING_TIMEOUT_MS: envField.int({ default: 20_000, min: 1_000, max: 600_000 }),
  /** Concurrent sockets per principal (token `sub` / API key) on this instance; 0: no limit. */
  GATEWAY_MAX_CONNECTIONS_PER_PRINCIPAL: envField.int({ default: 50, min: 0, max: 1_000_000 }),
  /** Concurrent sockets per client address on this instance; 0: no limit (NAT and proxies share addresses). */
  GATEWAY_MAX_CONNECTIONS_PER_IP: envField.int({ default: 1_000, min: 0, max: 10_000_000 }),
  /** Take the client address from this header's right-most entry (set by your ingress) instead of the TCP peer. */
  GATEWAY_CLIENT_IP_HEADER: envField
    .string()
    .refine((name) => name === undefined || /^[A-Za-z0-9-]{1,64}$/.test(name), 'must be an HTTP header name'),
  /** Rooms one socket may be subscribed to at once; 0: no limit. */
  GATEWAY_MAX_SUBSCRIPTIONS_PER_SOCKET: envField.int({ default: 1_000, min: 0, max: 1_000_000 }),
  /** subscribe + unsubscribe requests per socket per minute (at least the subscription limit); 0: no limit. */
  GATEWAY_SUBSCRIBE_OPS_PER_MINUTE: envField.int({ default: 3_000, min: 0, max: 10_000_000 }),
  /** Deliveries not covered by a client ack within this are re-sent (then with backoff). */
  GATEWAY_ACK_TIMEOUT_MS: envField.int({ default: 10_000, min: 100, max: 600_000 }),
  /** A socket whose unacked (or transport-queued) messages pass this is kicked as slow_consumer. */
  GATEWAY_MAX_BACKLOG_MESSAGES: envField.int({ default: 5_000, min: 10, max: 10_000_000 }),
  /** Same bound in bytes (JSON size of the unacked messages, or the transport's buffer). */
  GATEWAY_MAX_BACKLOG_BYTES: envField.int({ default: 8 * 1024 * 1024, min: 64 * 1024, max: 1024 * 1024 * 1024 }),
  /** Recent messages cached per room for resumes (0: none). */
  GATEWAY_ROOM_CACHE_MESSAGES: envField.int({ default: 1_000, min: 0, max: 100_000 }),
  /** Memory budget of the room cache, all rooms together (least recently used rooms go first). */
  GATEWAY_ROOM_CACHE_BYTES: envField.int({ default: 64 * 1024 * 1024, min: 0, max: 16 * 1024 * 1024 * 1024 }),
  /** SSE streams (GET /v1/rooms/:roomId/events) get a comment line this often so proxies and clients see them alive. */
  GATEWAY_SSE_HEARTBEAT_MS: envField.int({ default: 15_000, min: 1_000, max: 600_000 }),
  /** The reconnection delay (`retry:`) an SSE stream gives EventSource when it opens. */
  GATEWAY_SSE_RETRY_MS: envField.int({ default: 2_000, min: 100, max: 600_000 }),
  /** Presence: a gateway that stops renewing its lease (crash) loses its members after this. */
  GATEWAY_PRESENCE_TTL_MS: envField.int({ default: 15_000, min: 1_000, max: 600_000 }),
  /** Presence: how often join/leave is computed for rooms with presence sockets on this gateway. */
  GATEWAY_PRESENCE_POLL_MS: envField.int({ default: 1_000, min: 100, max: 60_000 }),
  /** Presence: members listed per room (and the largest room that gets join/leave events). */
  GATEWAY_PRESENCE_MAX_MEMBERS: envField.int({ default: 100, min: 1, max: 10_000 }),
  /**
   * Handshakes (connect + first subscribe answered) in progress at once; the next is refused with
   * connect_error `server_busy { retryAfterMs }` (docs/protocol.md). 0: no bound.
   */
  GATEWAY_MAX_HANDSHAKES_IN_FLIGHT: envField.int({ default: 512, min: 0, max: 100_000 }),
  /**
   * The public port's accept queue (listen backlog; the kernel caps it at net.core.somaxconn).
   * Node's default is 511; a full queue drops SYNs, which clients wait out with TCP's retransmits.
   */
  GATEWAY_LISTEN_BACKLOG: envField.int({ default: 511, min: 1, max: 65_535 }),
  /**
   * On shutdown, each socket is served on for its server_restart reconnectInMs, then disconnected;
   * those delays are spread uniformly over this window.
   */
  GATEWAY_DRAIN_SPREAD_MS: envField.int({ default: 10_000, min: 0, max: 600_000 }),
  /**
   * On shutdown, the drain ends when every socket is gone or after this long; must exceed
   * GATEWAY_DRAIN_SPREAD_MS + DRAIN_DISCONNECT_GRACE_MS (checked by edgeGatewayEnvProblems).
   */
  GATEWAY_DRAIN_TIMEOUT_MS: envField.int({ default: 30_000, min: 1_000, max: 600_000 }),
  /**
   * The events consumer's group timeouts. After a broker restart its recreated consumer rejoins
   * once the previous incarnation's session expired: the session timeout bounds that stall.
   */
  GATEWAY_SESSION_TIMEOUT_MS: envField.int({ default: CONSUMER_GROUP_TIMEOUT_DEFAULTS.sessionTimeoutMs, min: 1_000, max: 1_800_000 }),
  GATEWAY_HEARTBEAT_INTERVAL_MS: envField.int({ default: CONSUMER_GROUP_TIMEOUT_DEFAULTS.heartbeatIntervalMs, min: 100, max: 600_000 }),
  GATEWAY_REBALANCE_TIMEOUT_MS: envField.int({ default: CONSUMER_GROUP_TIMEOUT_DEFAULTS.rebalanceTimeoutMs, min: 1_000, max: 1_800_000 }),
  // Socket `publish` is the HTTP publish over another transport: the same variables, meaning and
  // defaults as ingest-api's (one definition), so a deployment sets one budget and one size bound.
  /** Largest socket `publish` request (its JSON), like the HTTP publish body limit. */
  INGEST_MAX_BODY_BYTES: ingestApiEnv.INGEST_MAX_BODY_BYTES,
  /** Messages per second per principal over sockets on this instance (shared with HTTP through Redis); 0: no limit. */
  INGEST_PUBLISH_RATE_PER_SEC: ingestApiEnv.INGEST_PUBLISH_RATE_PER_SEC,
  /** Share the publish rate limit with every ingest-api and edge-gateway instance through this Redis. */
  SEQCAST_REDIS_URL: ingestApiEnv.SEQCAST_REDIS_URL,
};

/**
 * The rule between variables: every socket is disconnected by spread + grace, so a drain timeout
 * at or below that would cut the last clients off before their turn. Only checked when both
 * variables are valid on their own (otherwise those problems are reported).
 */
function drainProblems(env: Env): string[] {
  const spread = edgeGatewayEnv.GATEWAY_DRAIN_SPREAD_MS.safeParse(env['GATEWAY_DRAIN_SPREAD_MS']);
  const timeout = edgeGatewayEnv.GATEWAY_DRAIN_TIMEOUT_MS.safeParse(env['GATEWAY_DRAIN_TIMEOUT_MS']);
  if (!spread.success || !timeout.success || timeout.data > spread.data + DRAIN_DISCONNECT_GRACE_MS) return [];
  return [
    `GATEWAY_DRAIN_TIMEOUT_MS: must exceed GATEWAY_DRAIN_SPREAD_MS + ${DRAIN_DISCONNECT_GRACE_MS} ms disconnect grace ` +
      `(${spread.data} + ${DRAIN_DISCONNECT_GRACE_MS} = ${spread.data + DRAIN_DISCONNECT_GRACE_MS}), got ${timeout.data}: ` +
      `raise it or lower GATEWAY_DRAIN_SPREAD_MS`,
  ];
}

/** Heartbeats at most a third of the session, rebalance at least the session; only when each is valid. */
function groupProblems(env: Env): string[] {
  const session = edgeGatewayEnv.GATEWAY_SESSION_TIMEOUT_MS.safeParse(env['GATEWAY_SESSION_TIMEOUT_MS']);
  const heartbeat = edgeGatewayEnv.GATEWAY_HEARTBEAT_INTERVAL_MS.safeParse(env['GATEWAY_HEARTBEAT_INTERVAL_MS']);
  const rebalance = edgeGatewayEnv.GATEWAY_REBALANCE_TIMEOUT_MS.safeParse(env['GATEWAY_REBALANCE_TIMEOUT_MS']);
  if (!session.success || !heartbeat.success || !rebalance.success) return [];
  return consumerGroupTimeoutProblems({
    sessionTimeoutMs: session.data,
    heartbeatIntervalMs: heartbeat.data,
    rebalanceTimeoutMs: rebalance.data,
  }).map((problem) => `GATEWAY_*_TIMEOUT_MS/INTERVAL_MS: ${problem}`);
}

/** Every rule between the gateway's variables, on the raw environment (each variable valid on its own). */
export function edgeGatewayEnvProblems(env: Env): string[] {
  return [...drainProblems(env), ...groupProblems(env)];
}

/** SIGTERM → forced exit 1 this long after it: the drain timeout + SHUTDOWN_MARGIN_MS. */
export function edgeGatewayShutdownTimeoutMs(drainTimeoutMs: number): number {
  return drainTimeoutMs + SHUTDOWN_MARGIN_MS;
}
