/** edge-gateway's configuration: the only place it reads the environment. */
import { hostname } from 'node:os';
import {
  authEnv,
  type AuthSettings,
  commonEnv,
  ConfigValidationError,
  databaseEnv,
  envField,
  kafkaEnv,
  managementEnv,
  originsEnv,
  parseEnv,
  resolveAuthSettings,
  resolveAllowedOrigins,
} from '@seqcast/config';
import { DEFAULT_GROUP_TIMEOUTS, type GroupTimeouts, groupTimeoutProblems } from '@seqcast/kafka';

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

/** Every environment variable this service reads, by name; the Helm chart's tests check against it. */
export const envShape = {
  ...commonEnv,
  ...kafkaEnv,
  ...databaseEnv,
  ...authEnv,
  /** `token_expiring` goes out this long before a socket's token expires (docs/protocol.md "Token lifetime"). */
  GATEWAY_TOKEN_REFRESH_LEAD_MS: envField.int({ default: 60_000, min: 1_000, max: 3_600_000 }),
  ...originsEnv,
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
   * On shutdown, each socket is served on for its server_restart reconnectInMs, then disconnected;
   * those delays are spread uniformly over this window.
   */
  GATEWAY_DRAIN_SPREAD_MS: envField.int({ default: 10_000, min: 0, max: 600_000 }),
  /**
   * On shutdown, the drain ends when every socket is gone or after this long; must exceed
   * GATEWAY_DRAIN_SPREAD_MS + DRAIN_DISCONNECT_GRACE_MS (checked by loadGatewayConfig).
   */
  GATEWAY_DRAIN_TIMEOUT_MS: envField.int({ default: 30_000, min: 1_000, max: 600_000 }),
  /**
   * The events consumer's group timeouts. After a broker restart its recreated consumer rejoins
   * once the previous incarnation's session expired: the session timeout bounds that stall.
   */
  GATEWAY_SESSION_TIMEOUT_MS: envField.int({ default: DEFAULT_GROUP_TIMEOUTS.sessionTimeoutMs, min: 1_000, max: 1_800_000 }),
  GATEWAY_HEARTBEAT_INTERVAL_MS: envField.int({ default: DEFAULT_GROUP_TIMEOUTS.heartbeatIntervalMs, min: 100, max: 600_000 }),
  GATEWAY_REBALANCE_TIMEOUT_MS: envField.int({ default: DEFAULT_GROUP_TIMEOUTS.rebalanceTimeoutMs, min: 1_000, max: 1_800_000 }),
};

export interface GatewayConfig {
  nodeEnv: 'development' | 'production' | 'test';
  logLevel: string;
  host: string;
  port: number;
  /** How handshake and refresh tokens are verified (SEQCAST_JWT_*, SEQCAST_AUTH_TOKEN_CACHE_SIZE). */
  auth: AuthSettings;
  tokenRefreshLeadMs: number;
  /** MANAGEMENT_PORT: /healthz, /readyz and /metrics, apart from the public port. */
  managementPort: number;
  instanceId: string;
  kafka: {
    brokers: string[];
    clientId: string;
    eventsTopic: string;
    partitions: number;
    replicationFactor: number;
    groupId: string;
    groupTimeouts: GroupTimeouts;
  };
  database: { url: string; runMigrations: boolean };
  socket: { pingIntervalMs: number; pingTimeoutMs: number; allowedOrigins: string[] };
  limits: {
    connections: { maxPerPrincipal: number; maxPerAddress: number; clientIpHeader?: string };
    subscriptions: { maxPerSocket: number; opsPerMinute: number };
  };
  delivery: { ackTimeoutMs: number; maxBacklogMessages: number; maxBacklogBytes: number };
  roomCache: { messagesPerRoom: number; maxBytes: number };
  sse: { heartbeatMs: number; retryMs: number; allowedOrigins: string[] };
  /** gatewayId: the instance id plus a per-process suffix, so a restarted instance never inherits rows. */
  presence: { gatewayId: string; ttlMs: number; pollMs: number; maxMembers: number };
  drain: { spreadMs: number; timeoutMs: number; graceMs: number };
  /** SIGTERM → forced exit 1 after this (drain timeout + SHUTDOWN_MARGIN_MS). */
  shutdownTimeoutMs: number;
}

/**
 * The rule between variables: every socket is disconnected by spread + grace, so a drain timeout
 * at or below that would cut the last clients off before their turn. Only checked when both
 * variables are valid on their own (otherwise those problems are reported).
 */
function drainProblems(env: Record<string, string | undefined>): string[] {
  const spread = envShape.GATEWAY_DRAIN_SPREAD_MS.safeParse(env['GATEWAY_DRAIN_SPREAD_MS']);
  const timeout = envShape.GATEWAY_DRAIN_TIMEOUT_MS.safeParse(env['GATEWAY_DRAIN_TIMEOUT_MS']);
  if (!spread.success || !timeout.success || timeout.data > spread.data + DRAIN_DISCONNECT_GRACE_MS) return [];
  return [
    `GATEWAY_DRAIN_TIMEOUT_MS: must exceed GATEWAY_DRAIN_SPREAD_MS + ${DRAIN_DISCONNECT_GRACE_MS} ms disconnect grace ` +
      `(${spread.data} + ${DRAIN_DISCONNECT_GRACE_MS} = ${spread.data + DRAIN_DISCONNECT_GRACE_MS}), got ${timeout.data}: ` +
      `raise it or lower GATEWAY_DRAIN_SPREAD_MS`,
  ];
}

/** Heartbeats at most a third of the session, rebalance at least the session; only when each is valid. */
function groupProblems(env: Record<string, string | undefined>): string[] {
  const session = envShape.GATEWAY_SESSION_TIMEOUT_MS.safeParse(env['GATEWAY_SESSION_TIMEOUT_MS']);
  const heartbeat = envShape.GATEWAY_HEARTBEAT_INTERVAL_MS.safeParse(env['GATEWAY_HEARTBEAT_INTERVAL_MS']);
  const rebalance = envShape.GATEWAY_REBALANCE_TIMEOUT_MS.safeParse(env['GATEWAY_REBALANCE_TIMEOUT_MS']);
  if (!session.success || !heartbeat.success || !rebalance.success) return [];
  return groupTimeoutProblems({
    sessionTimeoutMs: session.data,
    heartbeatIntervalMs: heartbeat.data,
    rebalanceTimeoutMs: rebalance.data,
  }).map((problem) => `GATEWAY_*_TIMEOUT_MS/INTERVAL_MS: ${problem}`);
}

/** parseEnv plus the rules between variables, every problem reported at once. */
function parseGatewayEnv(env: Record<string, string | undefined>) {
  const crossField = [...drainProblems(env), ...groupProblems(env)];
  try {
    const raw = parseEnv(envShape, env);
    if (crossField.length === 0) return raw;
  } catch (error) {
    if (!(error instanceof ConfigValidationError)) throw error;
    throw new ConfigValidationError([...error.problems, ...crossField]);
  }
  throw new ConfigValidationError(crossField);
}

/** Throws ConfigValidationError listing every bad variable (main turns that into exit code 1). */
export function loadGatewayConfig(
  env: Record<string, string | undefined> = process.env,
  defaultInstanceId = `${hostname()}-${process.pid}`.replace(/[^A-Za-z0-9._-]/g, '-'),
): GatewayConfig {
  const raw = parseGatewayEnv(env);
  const instanceId = raw.GATEWAY_INSTANCE_ID ?? defaultInstanceId;
  return {
    nodeEnv: raw.NODE_ENV,
    logLevel: raw.LOG_LEVEL,
    host: raw.HOST,
    port: raw.PORT,
    auth: resolveAuthSettings(raw.NODE_ENV, raw),
    tokenRefreshLeadMs: raw.GATEWAY_TOKEN_REFRESH_LEAD_MS,
    managementPort: raw.MANAGEMENT_PORT,
    instanceId,
    kafka: {
      brokers: raw.KAFKA_BROKERS,
      clientId: raw.KAFKA_CLIENT_ID ?? 'seqcast-edge-gateway',
      eventsTopic: raw.SEQCAST_EVENTS_TOPIC,
      partitions: raw.SEQCAST_PARTITIONS,
      replicationFactor: raw.SEQCAST_REPLICATION_FACTOR,
      groupId: `seqcast-gateway-${instanceId}`,
      groupTimeouts: {
        sessionTimeoutMs: raw.GATEWAY_SESSION_TIMEOUT_MS,
        heartbeatIntervalMs: raw.GATEWAY_HEARTBEAT_INTERVAL_MS,
        rebalanceTimeoutMs: raw.GATEWAY_REBALANCE_TIMEOUT_MS,
      },
    },
    database: { url: raw.DATABASE_URL, runMigrations: raw.DATABASE_RUN_MIGRATIONS },
    socket: {
      pingIntervalMs: raw.GATEWAY_PING_INTERVAL_MS,
      pingTimeoutMs: raw.GATEWAY_PING_TIMEOUT_MS,
      allowedOrigins: resolveAllowedOrigins(raw.NODE_ENV, raw.SEQCAST_ALLOWED_ORIGINS),
    },
    limits: {
      connections: {
        maxPerPrincipal: raw.GATEWAY_MAX_CONNECTIONS_PER_PRINCIPAL,
        maxPerAddress: raw.GATEWAY_MAX_CONNECTIONS_PER_IP,
        ...(raw.GATEWAY_CLIENT_IP_HEADER ? { clientIpHeader: raw.GATEWAY_CLIENT_IP_HEADER } : {}),
      },
      subscriptions: {
        maxPerSocket: raw.GATEWAY_MAX_SUBSCRIPTIONS_PER_SOCKET,
        opsPerMinute: raw.GATEWAY_SUBSCRIBE_OPS_PER_MINUTE,
      },
    },
    delivery: {
      ackTimeoutMs: raw.GATEWAY_ACK_TIMEOUT_MS,
      maxBacklogMessages: raw.GATEWAY_MAX_BACKLOG_MESSAGES,
      maxBacklogBytes: raw.GATEWAY_MAX_BACKLOG_BYTES,
    },
    roomCache: { messagesPerRoom: raw.GATEWAY_ROOM_CACHE_MESSAGES, maxBytes: raw.GATEWAY_ROOM_CACHE_BYTES },
    sse: {
      heartbeatMs: raw.GATEWAY_SSE_HEARTBEAT_MS,
      retryMs: raw.GATEWAY_SSE_RETRY_MS,
      allowedOrigins: resolveAllowedOrigins(raw.NODE_ENV, raw.SEQCAST_ALLOWED_ORIGINS),
    },
    presence: {
      gatewayId: `${instanceId}.${process.pid}.${Date.now().toString(36)}`,
      ttlMs: raw.GATEWAY_PRESENCE_TTL_MS,
      pollMs: raw.GATEWAY_PRESENCE_POLL_MS,
      maxMembers: raw.GATEWAY_PRESENCE_MAX_MEMBERS,
    },
    drain: {
      spreadMs: raw.GATEWAY_DRAIN_SPREAD_MS,
      timeoutMs: raw.GATEWAY_DRAIN_TIMEOUT_MS,
      graceMs: DRAIN_DISCONNECT_GRACE_MS,
    },
    shutdownTimeoutMs: raw.GATEWAY_DRAIN_TIMEOUT_MS + SHUTDOWN_MARGIN_MS,
  };
}
