/**
 * services.json, the one list of Seqcast's services: what each is (kind, ports, probes, metrics,
 * env groups). The Dockerfile, compose, the Helm chart's checks, the dev scripts, the container check
 * and the e2e stack read it instead of repeating the list; `nx g @seqcast/tools:service` adds to it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';

export const MANIFEST_FILE = 'services.json';

/** A service's name: its Nx project, image, Helm key and metric label; kebab-case. */
export const SERVICE_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

const httpPath = z.string().regex(/^\/[A-Za-z0-9/_-]*$/, 'must be an absolute URL path');
// Unprivileged, so the image's non-root user can bind it.
const port = z.number().int().min(1024).max(65535);

export const serviceDefinitionSchema = z
  .object({
    description: z.string().min(1).describe('One line: what the service does'),
    project: z.string().regex(SERVICE_NAME).describe('The Nx project that builds it (dist/apps/<project>/main.js)'),
    kind: z
      .enum(['http', 'websocket', 'worker'])
      .describe('http: request/response API; websocket: long-lived client connections; worker: no client traffic'),
    port: port.describe('Default PORT: the public port (a worker serves only probes there)'),
    managementPort: port.describe('Default MANAGEMENT_PORT: /healthz, /readyz and /metrics'),
    public: z.boolean().describe('Has a client-facing Service (and optionally an ingress)'),
    probes: z
      .object({ startup: httpPath, liveness: httpPath, readiness: httpPath })
      .strict()
      .describe('Paths on the management port'),
    metricsPath: httpPath.describe('Prometheus metrics on the management port'),
    envGroups: z
      .array(z.string().min(1))
      .min(1)
      .describe('The @seqcast/config env groups its configuration is made of (the last one is its own)'),
    shutdownTimeoutEnv: z
      .string()
      .regex(/^[A-Z][A-Z0-9_]*$/)
      .describe('The variable that bounds its shutdown after SIGTERM'),
    nodeOptions: z
      .string()
      .regex(/^--[a-z][a-z0-9-]*(=[A-Za-z0-9._-]+)?( --[a-z][a-z0-9-]*(=[A-Za-z0-9._-]+)?)*$/, 'must be node flags (--name or --name=value, space-separated)')
      .optional()
      .describe(
        "Node/V8 flags its image runs it with (NODE_OPTIONS in the image's node.env); an operator's NODE_OPTIONS replaces them",
      ),
  })
  .strict();

export const serviceManifestSchema = z
  .object({
    $schema: z.string().optional(),
    services: z.record(z.string().regex(SERVICE_NAME, 'must be kebab-case'), serviceDefinitionSchema),
  })
  .strict()
  .superRefine((manifest, context) => {
    // Defaults must not collide: every service of the local stack runs on one host.
    const owners = new Map<number, string>();
    for (const [name, service] of Object.entries(manifest.services)) {
      for (const [field, value] of [
        ['port', service.port],
        ['managementPort', service.managementPort],
      ] as const) {
        const owner = owners.get(value);
        if (owner) context.addIssue({ code: 'custom', path: ['services', name, field], message: `${value} is already ${owner}'s` });
        owners.set(value, `${name}.${field}`);
      }
    }
  });

export type ServiceDefinition = z.infer<typeof serviceDefinitionSchema>;
export type ServiceKind = ServiceDefinition['kind'];
export type ServiceManifest = z.infer<typeof serviceManifestSchema>;

/** Every problem with a manifest's content, one line each (path: message). */
export function manifestProblems(content: unknown): string[] {
  const result = serviceManifestSchema.safeParse(content);
  return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
}

export function parseServiceManifest(content: unknown, source = MANIFEST_FILE): ServiceManifest {
  const result = serviceManifestSchema.safeParse(content);
  if (result.success) return result.data;
  throw new Error(`${source} is invalid:\n${manifestProblems(content).map((line) => `  - ${line}`).join('\n')}`);
}

/** The nearest services.json at or above `from` (the workspace root's). */
export function findManifestPath(from: string = process.cwd()): string {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    const candidate = join(dir, MANIFEST_FILE);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) throw new Error(`no ${MANIFEST_FILE} in ${from} or any directory above it`);
  }
}

/** Reads and validates services.json (default: the workspace root's, found from the working directory). */
export function loadServiceManifest(path: string = findManifestPath()): ServiceManifest {
  return parseServiceManifest(JSON.parse(readFileSync(path, 'utf8')), path);
}

/** The services as [name, definition] pairs, in the manifest's order. */
export function serviceEntries(manifest: ServiceManifest): [string, ServiceDefinition][] {
  return Object.entries(manifest.services);
}
