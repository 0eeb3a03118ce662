/**
 * The three services as their own code defines them: each app's config.ts exports `envShape`, the
 * zod shape its environment is parsed with (keys = the env var names it reads). Deployment files
 * are checked against these, so a renamed or new variable cannot drift away from the chart or the
 * compose file unnoticed.
 */
import { parseEnv, resolveJwtSecret } from '@seqcast/config';
import type { z } from 'zod';
// Relative imports on purpose: apps are not libraries and have no import alias; this project only
// reads their configuration schema, never their runtime code.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { envShape as edgeGatewayEnv } from '../../../../apps/edge-gateway/src/config';
// eslint-disable-next-line @nx/enforce-module-boundaries
import { envShape as ingestApiEnv } from '../../../../apps/ingest-api/src/config';
// eslint-disable-next-line @nx/enforce-module-boundaries
import { envShape as orderingWorkerEnv } from '../../../../apps/ordering-worker/src/config';

export type ServiceName = 'ingest-api' | 'ordering-worker' | 'edge-gateway';

export interface ServiceSpec {
  name: ServiceName;
  envShape: z.ZodRawShape;
  /**
   * The variable bounding the service's shutdown: after SIGTERM it exits on its own within this many
   * ms, so the pod's grace period (and compose's stop_grace_period) must outlast preStop + it.
   */
  shutdownTimeoutEnv: string;
}

export const SERVICES: readonly ServiceSpec[] = [
  { name: 'ingest-api', envShape: ingestApiEnv, shutdownTimeoutEnv: 'INGEST_SHUTDOWN_TIMEOUT_MS' },
  { name: 'ordering-worker', envShape: orderingWorkerEnv, shutdownTimeoutEnv: 'WORKER_SHUTDOWN_TIMEOUT_MS' },
  { name: 'edge-gateway', envShape: edgeGatewayEnv, shutdownTimeoutEnv: 'GATEWAY_DRAIN_TIMEOUT_MS' },
];

export function service(name: string): ServiceSpec {
  const spec = SERVICES.find((s) => s.name === name);
  if (!spec) throw new Error(`unknown service "${name}"`);
  return spec;
}

/** Env var names set in `env` that the service does not read. */
export function unknownEnvNames(spec: ServiceSpec, env: Record<string, unknown>): string[] {
  return Object.keys(env).filter((name) => !(name in spec.envShape));
}

/** Variables only this service reads (its own knobs), as opposed to the shared Kafka/database/auth ones. */
export function ownEnvNames(spec: ServiceSpec): string[] {
  return Object.keys(spec.envShape).filter((name) => SERVICES.filter((s) => name in s.envShape).length === 1);
}

/** The value the service uses for `name` given this environment (its default when unset). */
export function effectiveEnv(spec: ServiceSpec, env: Record<string, string | undefined>, name: string): unknown {
  const field = spec.envShape[name];
  if (!field) throw new Error(`${spec.name}: its env schema has no ${name}`);
  return field.parse(env[name]);
}

/** Milliseconds the service may spend shutting down after SIGTERM before it exits on its own. */
export function shutdownTimeoutMs(spec: ServiceSpec, env: Record<string, string | undefined>): number {
  const ms = effectiveEnv(spec, env, spec.shutdownTimeoutEnv);
  if (typeof ms !== 'number') throw new Error(`${spec.name}: ${spec.shutdownTimeoutEnv} is not a number`);
  return ms;
}

/** Names whose field has no default: leaving them unset fails the service's start-up. */
export function requiredEnvNames(spec: ServiceSpec): string[] {
  return Object.entries(spec.envShape)
    .filter(([, field]) => !field.safeParse(undefined).success)
    .map(([name]) => name);
}

/** The port the service listens on when PORT is not set. */
export function defaultPort(spec: ServiceSpec): number {
  const port: unknown = spec.envShape['PORT']?.parse(undefined);
  if (typeof port !== 'number') throw new Error(`${spec.name}: its env schema has no PORT with a numeric default`);
  return port;
}

export const verifiesJwt = (spec: ServiceSpec): boolean => 'SEQCAST_JWT_SECRET' in spec.envShape;

/**
 * What the service itself would say about this environment at start-up: the problems its parser
 * reports (every bad variable), plus the production JWT rule. Empty = it starts.
 */
export function startupProblems(spec: ServiceSpec, env: Record<string, string | undefined>): string[] {
  try {
    const parsed = parseEnv(spec.envShape, env) as Record<string, unknown>;
    if (verifiesJwt(spec)) resolveJwtSecret(String(parsed['NODE_ENV']), env['SEQCAST_JWT_SECRET']);
    return [];
  } catch (error) {
    const problems = (error as { problems?: unknown }).problems;
    return Array.isArray(problems) ? problems.map(String) : [String(error)];
  }
}
