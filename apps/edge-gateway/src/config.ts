/** edge-gateway's configuration: the only place it reads the environment. */
import { hostname } from 'node:os';
import { authEnv, commonEnv, databaseEnv, envField, kafkaEnv, parseEnv, resolveJwtSecret } from '@seqcast/config';

const INSTANCE_ID = /^[A-Za-z0-9._-]{1,200}$/;

/** Every environment variable this service reads, by name; the Helm chart's tests check against it. */
export const envShape = {
  ...commonEnv,
  ...kafkaEnv,
  ...databaseEnv,
  ...authEnv,
  PORT: envField.port(3001),
  HOST: envField.string('0.0.0.0'),
  /** Names this instance's consumer group; defaults to `<hostname>-<pid>` so every process is its own. */
  GATEWAY_INSTANCE_ID: envField
    .string()
    .refine((id) => id === undefined || INSTANCE_ID.test(id), 'must be 1-200 characters of [A-Za-z0-9._-]'),
  GATEWAY_PING_INTERVAL_MS: envField.int({ default: 25_000, min: 1_000, max: 600_000 }),
  GATEWAY_PING_TIMEOUT_MS: envField.int({ default: 20_000, min: 1_000, max: 600_000 }),
  GATEWAY_CORS_ORIGINS: envField.list(['*']),
};

export interface GatewayConfig {
  nodeEnv: 'development' | 'production' | 'test';
  logLevel: string;
  host: string;
  port: number;
  jwtSecret: string;
  instanceId: string;
  kafka: { brokers: string[]; clientId: string; eventsTopic: string; partitions: number; groupId: string };
  database: { url: string; runMigrations: boolean };
  socket: { pingIntervalMs: number; pingTimeoutMs: number; corsOrigins: string[] };
}

/** Throws ConfigValidationError listing every bad variable (main turns that into exit code 1). */
export function loadGatewayConfig(
  env: Record<string, string | undefined> = process.env,
  defaultInstanceId = `${hostname()}-${process.pid}`.replace(/[^A-Za-z0-9._-]/g, '-'),
): GatewayConfig {
  const raw = parseEnv(envShape, env);
  const instanceId = raw.GATEWAY_INSTANCE_ID ?? defaultInstanceId;
  return {
    nodeEnv: raw.NODE_ENV,
    logLevel: raw.LOG_LEVEL,
    host: raw.HOST,
    port: raw.PORT,
    jwtSecret: resolveJwtSecret(raw.NODE_ENV, raw.SEQCAST_JWT_SECRET),
    instanceId,
    kafka: {
      brokers: raw.KAFKA_BROKERS,
      clientId: raw.KAFKA_CLIENT_ID ?? 'seqcast-edge-gateway',
      eventsTopic: raw.SEQCAST_EVENTS_TOPIC,
      partitions: raw.SEQCAST_PARTITIONS,
      groupId: `seqcast-gateway-${instanceId}`,
    },
    database: { url: raw.DATABASE_URL, runMigrations: raw.DATABASE_RUN_MIGRATIONS },
    socket: {
      pingIntervalMs: raw.GATEWAY_PING_INTERVAL_MS,
      pingTimeoutMs: raw.GATEWAY_PING_TIMEOUT_MS,
      corsOrigins: raw.GATEWAY_CORS_ORIGINS,
    },
  };
}
