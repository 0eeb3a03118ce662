/**
 * The three services as their own code defines them: each app's config.ts exports `envShape`, the
 * zod shape its environment is parsed with (keys = the env var names it reads), and the loader its
 * main.ts starts with (the shape plus any rule between variables, e.g. the gateway's drain timeout
 * > spread + 1 s). Deployment files are checked against these, so a renamed or new variable, a new
 * start-up rule or a longer shutdown deadline cannot drift away from the chart or the compose file
 * unnoticed.
 */
import type { z } from 'zod';
// Relative imports on purpose: apps are not libraries and have no import alias; this project only
// reads their configuration modules (schema and loader), never the rest of their runtime code.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { envShape as edgeGatewayEnv, loadGatewayConfig } from '../../../../apps/edge-gateway/src/config';
// eslint-disable-next-line @nx/enforce-module-boundaries
import { envShape as ingestApiEnv, loadIngestConfig } from '../../../../apps/ingest-api/src/config';
// eslint-disable-next-line @nx/enforce-module-boundaries
import { envShape as orderingWorkerEnv, loadWorkerConfig } from '../../../../apps/ordering-worker/src/config';

export type ServiceName = 'ingest-api' | 'ordering-worker' | 'edge-gateway';

type Env = Record<string, string | undefined>;

export interface ServiceSpec {
  name: ServiceName;
  envShape: z.ZodRawShape;
  /** The variable that bounds the service's shutdown after SIGTERM (its forced-exit deadline is derived from it). */
  shutdownTimeoutEnv: string;
  /**
   * What the service's main.ts does with its environment: its own config loader (which throws on
   * every bad variable and every broken rule between variables, as at start-up), reduced to the
   * deadline main.ts hands installShutdownDeadline: the ms after SIGTERM at which the process is
   * forced to exit on its own. The pod's grace period (and compose's stop_grace_period) must
   * outlast preStop + it.
   */
  loadForcedExitMs: (env: Env) => number;
}

export const SERVICES: readonly ServiceSpec[] = [
  {
    name: 'ingest-api',
    envShape: ingestApiEnv,
    shutdownTimeoutEnv: 'INGEST_SHUTDOWN_TIMEOUT_MS',
    loadForcedExitMs: (env) => loadIngestConfig(env).shutdownTimeoutMs,
  },
  {
    name: 'ordering-worker',
    envShape: orderingWorkerEnv,
    shutdownTimeoutEnv: 'WORKER_SHUTDOWN_TIMEOUT_MS',
    loadForcedExitMs: (env) => loadWorkerConfig(env).worker.shutdownTimeoutMs,
  },
  {
    name: 'edge-gateway',
    envShape: edgeGatewayEnv,
    shutdownTimeoutEnv: 'GATEWAY_DRAIN_TIMEOUT_MS',
    // drain timeout + SHUTDOWN_MARGIN_MS; the instance id only names the consumer group.
    loadForcedExitMs: (env) => loadGatewayConfig(env, 'deploy-checks').shutdownTimeoutMs,
  },
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
export function effectiveEnv(spec: ServiceSpec, env: Env, name: string): unknown {
  const field = spec.envShape[name];
  if (!field) throw new Error(`${spec.name}: its env schema has no ${name}`);
  return field.parse(env[name]);
}

/**
 * Milliseconds after SIGTERM at which the service is forced to exit on its own (the deadline its
 * main.ts installs), for this environment. Throws if the service would not start with it.
 */
export function forcedExitMs(spec: ServiceSpec, env: Env): number {
  return spec.loadForcedExitMs(env);
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

/** The management port (MANAGEMENT_PORT: probes and /metrics) when it is not set. */
export function defaultManagementPort(spec: ServiceSpec): number {
  const port: unknown = spec.envShape['MANAGEMENT_PORT']?.parse(undefined);
  if (typeof port !== 'number')
    throw new Error(`${spec.name}: its env schema has no MANAGEMENT_PORT with a numeric default`);
  return port;
}

export const verifiesJwt = (spec: ServiceSpec): boolean => 'SEQCAST_JWT_SECRET' in spec.envShape;

/**
 * What the service itself would say about this environment at start-up: the problems its own
 * config loader reports (every bad variable, every rule between variables such as the gateway's
 * drain timeout > spread + 1 s, and the production JWT rule). Empty = it starts.
 */
export function startupProblems(spec: ServiceSpec, env: Env): string[] {
  try {
    spec.loadForcedExitMs(env);
    return [];
  } catch (error) {
    const problems = (error as { problems?: unknown }).problems;
    return Array.isArray(problems) ? problems.map(String) : [String(error)];
  }
}
