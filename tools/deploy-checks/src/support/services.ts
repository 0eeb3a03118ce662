/**
 * The services as services.json lists them, each with the environment its configuration reads:
 * the manifest names a service's env groups, and @seqcast/config turns those names into the zod
 * shape the service parses its environment with (keys = the variable names it reads), the rules
 * between variables it checks at start-up (e.g. the gateway's drain timeout > spread + 1 s) and its
 * forced-exit deadline. Deployment files are checked against these, so a renamed or new variable, a
 * new start-up rule, a longer shutdown deadline or a new service cannot drift away from the chart or
 * the compose file unnoticed.
 */
import { join } from 'node:path';
import { type Env, envProblemsOf, envShapeOf, forcedExitMsOf } from '@seqcast/config';
import { loadServiceManifest, type ServiceDefinition } from '@seqcast/service-manifest';
import type { z } from 'zod';

/** A key of services.json's `services`. */
export type ServiceName = string;

export interface ServiceSpec {
  name: ServiceName;
  /** Its services.json entry (kind, ports, probes, env groups...). */
  definition: ServiceDefinition;
  envShape: z.ZodRawShape;
  /** The variable that bounds the service's shutdown after SIGTERM (its forced-exit deadline is derived from it). */
  shutdownTimeoutEnv: string;
  /**
   * What the service's start-up does with its environment (every bad variable, every broken rule
   * between variables: ConfigValidationError), reduced to the deadline it hands
   * installShutdownDeadline: the ms after SIGTERM at which the process is forced to exit on its
   * own. The pod's grace period (and compose's stop_grace_period) must outlast preStop + it.
   */
  loadForcedExitMs: (env: Env) => number;
}

export const MANIFEST = loadServiceManifest(join(__dirname, '../../../../services.json'));

export const SERVICES: readonly ServiceSpec[] = Object.entries(MANIFEST.services).map(([name, definition]) => ({
  name,
  definition,
  envShape: envShapeOf(definition.envGroups),
  shutdownTimeoutEnv: definition.shutdownTimeoutEnv,
  loadForcedExitMs: (env: Env) => forcedExitMsOf(definition.envGroups, env),
}));

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
 * What the service itself would say about this environment at start-up: the problems its env
 * groups report, the same shapes and rules its config loader applies (every bad variable, every
 * rule between variables such as the gateway's drain timeout > spread + 1 s, and the production
 * JWT rule). Empty = it starts.
 */
export function startupProblems(spec: ServiceSpec, env: Env): string[] {
  return envProblemsOf(spec.definition.envGroups, env);
}
