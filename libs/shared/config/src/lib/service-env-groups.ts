/**
 * The named env groups a service is made of (services.json `envGroups`): the shared ones (common,
 * kafka, database, auth, origins) and one per service with its own variables. A service's config.ts
 * composes the groups' shapes into its typed config; tools that check deployment files (Helm values,
 * compose) build the same shape and the same start-up verdict from the group names alone, so they
 * never need a service's source.
 */
import { z } from 'zod';
import { resolveAuthSettings } from './auth-settings';
import { ConfigValidationError } from './config-validation-error';
import { authEnv, commonEnv, databaseEnv, kafkaEnv } from './env-groups';
import { originsEnv, resolveAllowedOrigins } from './origins';
import { parseEnv } from './parse-env';
import { edgeGatewayEnv, edgeGatewayEnvProblems, edgeGatewayShutdownTimeoutMs } from './services/edge-gateway';
import { ingestApiEnv } from './services/ingest-api';
import { orderingWorkerEnv, orderingWorkerEnvProblems } from './services/ordering-worker';

export type Env = Record<string, string | undefined>;

export interface EnvGroup {
  /** The variables, by name: zod fields that parse the raw string (defaults included). */
  shape: z.ZodRawShape;
  /**
   * Rules between variables that parsing each one cannot see (one line per problem; empty when
   * fine). Only reported for variables that are valid on their own.
   */
  problems?: (env: Env) => string[];
  /**
   * A service's own group: ms after SIGTERM at which the service forces its exit (the deadline
   * its main.ts installs), from a valid environment.
   */
  forcedExitMs?: (env: Env) => number;
}

/** Runs a resolver that throws ConfigValidationError and returns its problems instead. */
function problemsOf(resolve: () => unknown): string[] {
  try {
    resolve();
    return [];
  } catch (error) {
    if (error instanceof ConfigValidationError) return error.problems;
    throw error;
  }
}

/** Parses `shape` alone, or undefined when any of its variables is invalid (reported elsewhere). */
function parsedOrUndefined<S extends z.ZodRawShape>(shape: S, env: Env): z.infer<z.ZodObject<S>> | undefined {
  const result = z.object(shape).safeParse(env);
  return result.success ? result.data : undefined;
}

/** Every env group by name. A new service's group is added here (the service generator does it). */
export const ENV_GROUPS: Readonly<Record<string, EnvGroup>> = {
  common: { shape: commonEnv },
  kafka: { shape: kafkaEnv },
  database: { shape: databaseEnv },
  auth: {
    shape: authEnv,
    // Exactly one key source, a readable key, and never the published secret in production.
    problems: (env) => {
      const raw = parsedOrUndefined({ ...commonEnv, ...authEnv }, env);
      return raw ? problemsOf(() => resolveAuthSettings(raw.NODE_ENV, raw)) : [];
    },
  },
  origins: {
    shape: originsEnv,
    problems: (env) => {
      const raw = parsedOrUndefined({ ...commonEnv, ...originsEnv }, env);
      return raw ? problemsOf(() => resolveAllowedOrigins(raw.NODE_ENV, raw.SEQCAST_ALLOWED_ORIGINS)) : [];
    },
  },
  'ingest-api': {
    shape: ingestApiEnv,
    forcedExitMs: (env) => ingestApiEnv.INGEST_SHUTDOWN_TIMEOUT_MS.parse(env['INGEST_SHUTDOWN_TIMEOUT_MS']),
  },
  'ordering-worker': {
    shape: orderingWorkerEnv,
    problems: orderingWorkerEnvProblems,
    forcedExitMs: (env) => orderingWorkerEnv.WORKER_SHUTDOWN_TIMEOUT_MS.parse(env['WORKER_SHUTDOWN_TIMEOUT_MS']),
  },
  'edge-gateway': {
    shape: edgeGatewayEnv,
    problems: edgeGatewayEnvProblems,
    forcedExitMs: (env) =>
      edgeGatewayShutdownTimeoutMs(edgeGatewayEnv.GATEWAY_DRAIN_TIMEOUT_MS.parse(env['GATEWAY_DRAIN_TIMEOUT_MS'])),
  },
  // New service groups go above this line (tools/generators service: keep this comment).
};

export function envGroup(name: string): EnvGroup {
  const group = ENV_GROUPS[name];
  if (!group) throw new Error(`unknown env group "${name}" (known: ${Object.keys(ENV_GROUPS).join(', ')})`);
  return group;
}

/** The variables a service made of these groups reads, by name (later groups win on a shared name). */
export function envShapeOf(groups: readonly string[]): z.ZodRawShape {
  return Object.assign({}, ...groups.map((name) => envGroup(name).shape));
}

/**
 * What a service made of these groups says about `env` at start-up: every invalid variable and every
 * broken rule between variables. Empty: it starts.
 */
export function envProblemsOf(groups: readonly string[], env: Env): string[] {
  const rules = groups.flatMap((name) => envGroup(name).problems?.(env) ?? []);
  return [...problemsOf(() => parseEnv(envShapeOf(groups), env)), ...rules];
}

/**
 * ms after SIGTERM at which a service made of these groups forces its exit, for a valid `env`
 * (throws ConfigValidationError otherwise, as the service would not start).
 */
export function forcedExitMsOf(groups: readonly string[], env: Env): number {
  const problems = envProblemsOf(groups, env);
  if (problems.length > 0) throw new ConfigValidationError(problems);
  const deadlines = groups.flatMap((name) => envGroup(name).forcedExitMs ?? []);
  if (deadlines.length !== 1) {
    throw new Error(`exactly one of the env groups ${groups.join(', ')} must own the shutdown deadline`);
  }
  return deadlines[0](env);
}
