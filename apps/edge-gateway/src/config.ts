/** edge-gateway's configuration: the only place it reads the environment. */
import { hostname } from 'node:os';
import {
  authEnv,
  type AuthSettings,
  commonEnv,
  ConfigValidationError,
  databaseEnv,
  DRAIN_DISCONNECT_GRACE_MS,
  edgeGatewayEnv,
  edgeGatewayEnvProblems,
  edgeGatewayShutdownTimeoutMs,
  kafkaEnv,
  type DatabaseTlsSettings,
  type KafkaSecuritySettings,
  originsEnv,
  parseEnv,
  resolveAllowedOrigins,
  resolveAuthSettings,
  resolveDatabaseTls,
  resolveKafkaSecurity,
} from '@seqcast/config';
import type { GroupTimeouts } from '@seqcast/kafka';

/** Every environment variable this service reads, by name: its env groups (services.json `envGroups`). */
export const envShape = {
  ...commonEnv,
  ...kafkaEnv,
  ...databaseEnv,
  ...authEnv,
  ...originsEnv,
  ...edgeGatewayEnv,
};

export interface GatewayConfig {
  nodeEnv: 'development' | 'production' | 'test';
  logLevel: string;
  host: string;
  port: number;
  /** GATEWAY_LISTEN_BACKLOG: the public port's accept queue. */
  listenBacklog: number;
  /** How handshake and refresh tokens are verified (SEQCAST_JWT_*, SEQCAST_AUTH_TOKEN_CACHE_SIZE). */
  auth: AuthSettings;
  tokenRefreshLeadMs: number;
  /** MANAGEMENT_PORT: /healthz, /readyz and /metrics, apart from the public port. */
  managementPort: number;
  instanceId: string;
  /** ssl/sasl (KAFKA_SSL*, KAFKA_SASL*) hold PEM contents and a password: never log them. */
  kafka: {
    brokers: string[];
    clientId: string;
    /** KAFKA_CLIENT: the library under the consumers and producers. */
    client: 'kafkajs' | 'platformatic';
    eventsTopic: string;
    partitions: number;
    replicationFactor: number;
    minInsyncReplicas: number;
    groupId: string;
    groupTimeouts: GroupTimeouts;
  } & KafkaSecuritySettings;
  database: { url: string; runMigrations: boolean; tls: DatabaseTlsSettings };
  socket: { pingIntervalMs: number; pingTimeoutMs: number; allowedOrigins: string[] };
  limits: {
    connections: { maxPerPrincipal: number; maxPerAddress: number; clientIpHeader?: string };
    subscriptions: { maxPerSocket: number; opsPerMinute: number };
    handshakes: { maxInFlight: number };
  };
  delivery: { ackTimeoutMs: number; maxBacklogMessages: number; maxBacklogBytes: number };
  roomCache: { messagesPerRoom: number; maxBytes: number };
  sse: { heartbeatMs: number; retryMs: number; allowedOrigins: string[] };
  /** gatewayId: the instance id plus a per-process suffix, so a restarted instance never inherits rows. */
  presence: { gatewayId: string; ttlMs: number; pollMs: number; maxMembers: number };
  drain: { spreadMs: number; timeoutMs: number; graceMs: number };
  /** Socket `publish`: written to SEQCAST_MESSAGES_TOPIC like an HTTP publish. redisUrl may carry a password: never log it. */
  publish: { messagesTopic: string; maxPayloadBytes: number; ratePerSec: number; redisUrl?: string };
  /** SIGTERM → forced exit 1 after this (drain timeout + SHUTDOWN_MARGIN_MS). */
  shutdownTimeoutMs: number;
}

/** parseEnv plus the rules between variables, every problem reported at once. */
function parseGatewayEnv(env: Record<string, string | undefined>) {
  const crossField = edgeGatewayEnvProblems(env);
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
    listenBacklog: raw.GATEWAY_LISTEN_BACKLOG,
    auth: resolveAuthSettings(raw.NODE_ENV, raw),
    tokenRefreshLeadMs: raw.GATEWAY_TOKEN_REFRESH_LEAD_MS,
    managementPort: raw.MANAGEMENT_PORT,
    instanceId,
    kafka: {
      brokers: raw.KAFKA_BROKERS,
      clientId: raw.KAFKA_CLIENT_ID ?? 'seqcast-edge-gateway',
      client: raw.KAFKA_CLIENT,
      eventsTopic: raw.SEQCAST_EVENTS_TOPIC,
      partitions: raw.SEQCAST_PARTITIONS,
      replicationFactor: raw.SEQCAST_REPLICATION_FACTOR,
      minInsyncReplicas: raw.SEQCAST_MIN_INSYNC_REPLICAS,
      ...resolveKafkaSecurity(raw.NODE_ENV, raw),
      groupId: `seqcast-gateway-${instanceId}`,
      groupTimeouts: {
        sessionTimeoutMs: raw.GATEWAY_SESSION_TIMEOUT_MS,
        heartbeatIntervalMs: raw.GATEWAY_HEARTBEAT_INTERVAL_MS,
        rebalanceTimeoutMs: raw.GATEWAY_REBALANCE_TIMEOUT_MS,
      },
    },
    database: { url: raw.DATABASE_URL, runMigrations: raw.DATABASE_RUN_MIGRATIONS, tls: resolveDatabaseTls(raw) },
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
      handshakes: { maxInFlight: raw.GATEWAY_MAX_HANDSHAKES_IN_FLIGHT },
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
    publish: {
      messagesTopic: raw.SEQCAST_MESSAGES_TOPIC,
      maxPayloadBytes: raw.INGEST_MAX_BODY_BYTES,
      ratePerSec: raw.INGEST_PUBLISH_RATE_PER_SEC,
      ...(raw.SEQCAST_REDIS_URL ? { redisUrl: raw.SEQCAST_REDIS_URL } : {}),
    },
    shutdownTimeoutMs: edgeGatewayShutdownTimeoutMs(raw.GATEWAY_DRAIN_TIMEOUT_MS),
  };
}
