/**
 * `npx nx g @seqcast/tools:service <name>`: a new Seqcast service, integrated everywhere the
 * services are listed, so the developer writes only its own logic.
 *
 * Writes apps/<name> (main.ts on bootstrapService, app.module.ts with metrics and readiness,
 * config.ts and its unit test, project.json tagged for the module-boundary rules), the service's
 * own env group in @seqcast/config, and registers it in services.json (next free port and
 * management port), docker/compose.yaml and, when the chart has its `services:` map, in
 * helm/seqcast/values.yaml. The Dockerfile, the dev scripts, the container check, the e2e stack
 * and the deployment checks read services.json and need no edit.
 */
import { generateFiles, joinPathFragments, names, type Tree, workspaceRoot } from '@nx/devkit';
import { type Document, isMap, parseDocument, type Scalar, type YAMLMap } from 'yaml';

export interface ServiceGeneratorSchema {
  name: string;
  kind?: 'http' | 'websocket' | 'worker';
  description?: string;
  port?: number;
  managementPort?: number;
}

interface ManifestService {
  port: number;
  managementPort: number;
  [field: string]: unknown;
}

interface Manifest {
  $schema?: string;
  services: Record<string, ManifestService>;
}

export const MANIFEST_PATH = 'services.json';
export const ENV_GROUPS_PATH = 'libs/shared/config/src/lib/service-env-groups.ts';
export const CONFIG_INDEX_PATH = 'libs/shared/config/src/index.ts';
export const COMPOSE_PATH = 'docker/compose.yaml';
export const HELM_VALUES_PATH = 'helm/seqcast/values.yaml';
/** ENV_GROUPS ends with this comment; new groups are inserted above it. */
export const ENV_GROUPS_MARKER = '  // New service groups go above this line';

/**
 * The templates, from the workspace root: Nx may load this file as an ES module (no __dirname).
 */
const TEMPLATES = joinPathFragments(workspaceRoot, 'tools/generators/src/service/files');

/** The generated env group's default <NAME>_SHUTDOWN_TIMEOUT_MS, written out in compose and the chart. */
const SHUTDOWN_TIMEOUT_MS = 15_000;

const SERVICE_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
/** Taken by something that is not a service: the web console (start-local) and Kafka. */
const RESERVED_PORTS = new Set([3003, 9092, 9093]);

function nextFreePort(taken: Set<number>, from: number): number {
  let port = from;
  while (taken.has(port) || RESERVED_PORTS.has(port)) port++;
  return port;
}

/** Ports for the new service: the next free one after the services', and its management port 6000 above (3000/9000). */
export function allocatePorts(manifest: Manifest, wanted: { port?: number; managementPort?: number }) {
  const taken = new Set(Object.values(manifest.services).flatMap((s) => [s.port, s.managementPort]));
  const ports = Object.values(manifest.services).map((s) => s.port);
  const port = wanted.port ?? nextFreePort(taken, Math.max(2999, ...ports) + 1);
  if (taken.has(port)) throw new Error(`port ${port} is already taken in ${MANIFEST_PATH}`);
  taken.add(port);
  const managementPort = wanted.managementPort ?? nextFreePort(taken, port + 6000);
  if (taken.has(managementPort)) throw new Error(`management port ${managementPort} is already taken in ${MANIFEST_PATH}`);
  return { port, managementPort };
}

function registerEnvGroup(tree: Tree, name: string, propertyName: string, constName: string): void {
  const groups = tree.read(ENV_GROUPS_PATH, 'utf-8') ?? '';
  if (!groups.includes(ENV_GROUPS_MARKER)) throw new Error(`${ENV_GROUPS_PATH}: the marker comment "${ENV_GROUPS_MARKER.trim()}" is gone`);
  const entry =
    `  '${name}': {\n    shape: ${propertyName}Env,\n` +
    `    forcedExitMs: (env) =>\n      ${propertyName}Env.${constName}_SHUTDOWN_TIMEOUT_MS.parse(env['${constName}_SHUTDOWN_TIMEOUT_MS']),\n  },\n`;
  const withImport = groups.replace(
    /^(import [^;]+ from '\.\/services\/[^']+';\n)(?!import [^;]+ from '\.\/services\/)/m,
    `$1import { ${propertyName}Env } from './services/${name}';\n`,
  );
  tree.write(ENV_GROUPS_PATH, withImport.replace(ENV_GROUPS_MARKER, `${entry}${ENV_GROUPS_MARKER}`));
  const index = tree.read(CONFIG_INDEX_PATH, 'utf-8') ?? '';
  tree.write(CONFIG_INDEX_PATH, `${index}export { ${propertyName}Env } from './lib/services/${name}';\n`);
}

/** Compose's port mappings are quoted: YAML 1.1 reads an unquoted 3004:3004 as a base-60 number. */
function quoted(document: Document, value: string): Scalar {
  const scalar = document.createNode(value) as Scalar;
  scalar.type = 'QUOTE_DOUBLE';
  return scalar;
}

/** A compose entry like the others: built from docker/Dockerfile, the shared env, its port. */
function registerInCompose(tree: Tree, name: string, port: number, constName: string): void {
  if (!tree.exists(COMPOSE_PATH)) return;
  const document = parseDocument(tree.read(COMPOSE_PATH, 'utf-8') ?? '');
  const services = document.get('services');
  if (!isMap(services)) throw new Error(`${COMPOSE_PATH}: no services map`);
  // The anchors every service shares (x-seqcast-env, x-seqcast-depends), as aliases.
  const sharedEnv = document.get('x-seqcast-env', true);
  const sharedDepends = document.get('x-seqcast-depends', true);
  const entry = document.createNode({
    build: { context: '..', dockerfile: 'docker/Dockerfile', args: { SERVICE: name, PORT: String(port) } },
    image: `seqcast/${name}:local`,
    environment: {
      ...(isMap(sharedEnv) && sharedEnv.anchor ? { '<<': document.createAlias(sharedEnv) } : {}),
      PORT: String(port),
      [`${constName}_SHUTDOWN_TIMEOUT_MS`]: String(SHUTDOWN_TIMEOUT_MS),
    },
    ports: [quoted(document, `${port}:${port}`)],
    ...(isMap(sharedDepends) && sharedDepends.anchor ? { depends_on: document.createAlias(sharedDepends) } : {}),
    stop_grace_period: '30s',
    restart: 'unless-stopped',
  }) as YAMLMap;
  entry.commentBefore = ` ${name}: added by nx g @seqcast/tools:service; stop_grace_period outlasts ${constName}_SHUTDOWN_TIMEOUT_MS.`;
  services.set(name, entry);
  tree.write(COMPOSE_PATH, document.toString({ lineWidth: 0 }));
}

/**
 * The chart's entry (helm/seqcast/values.yaml `services.<name>`; everything else falls back to
 * `serviceDefaults`): enabled, kind and ports, plus the shutdown wiring, so the chart sets the
 * variable and refuses a grace period shorter than preStop + the service's own forced exit.
 * Skipped, with a warning, while the chart has no `services:` map.
 */
function registerInHelmValues(tree: Tree, name: string, kind: string, ports: { port: number; managementPort: number }, shutdownTimeoutEnv: string): boolean {
  if (!tree.exists(HELM_VALUES_PATH)) return false;
  const document = parseDocument(tree.read(HELM_VALUES_PATH, 'utf-8') ?? '');
  const services = document.get('services');
  if (!isMap(services)) return false;
  services.set(
    name,
    document.createNode({ enabled: true, kind, ...ports, shutdownTimeoutEnv, env: { [shutdownTimeoutEnv]: SHUTDOWN_TIMEOUT_MS } }),
  );
  tree.write(HELM_VALUES_PATH, document.toString({ lineWidth: 0 }));
  return true;
}

export function serviceGenerator(tree: Tree, options: ServiceGeneratorSchema): void {
  const name = options.name;
  if (!SERVICE_NAME.test(name)) throw new Error(`service name "${name}" must be kebab-case (e.g. presence-api)`);
  const manifest = JSON.parse(tree.read(MANIFEST_PATH, 'utf-8') ?? 'null') as Manifest | null;
  if (!manifest?.services) throw new Error(`${MANIFEST_PATH} is missing or has no "services"`);
  if (manifest.services[name] || tree.exists(`apps/${name}`)) throw new Error(`service "${name}" already exists`);

  const kind = options.kind ?? 'http';
  const { port, managementPort } = allocatePorts(manifest, options);
  const { className, propertyName, constantName: constName } = names(name);
  const description = options.description ?? `${name} (describe what it does in services.json)`;
  const substitutions = {
    name,
    className,
    propertyName,
    constName,
    port,
    managementPort,
    kind,
    description,
    shutdownTimeoutMs: SHUTDOWN_TIMEOUT_MS,
    tmpl: '',
  };

  generateFiles(tree, joinPathFragments(TEMPLATES, 'app'), `apps/${name}`, substitutions);
  generateFiles(tree, joinPathFragments(TEMPLATES, 'env-group'), 'libs/shared/config/src/lib/services', substitutions);
  registerEnvGroup(tree, name, propertyName, constName);

  manifest.services[name] = {
    description,
    project: name,
    kind,
    port,
    managementPort,
    public: kind !== 'worker',
    probes: { startup: '/healthz', liveness: '/healthz', readiness: '/readyz' },
    metricsPath: '/metrics',
    envGroups: ['common', 'kafka', 'database', name],
    shutdownTimeoutEnv: `${constName}_SHUTDOWN_TIMEOUT_MS`,
  };
  tree.write(MANIFEST_PATH, `${JSON.stringify(manifest, null, 2)}\n`);
  registerInCompose(tree, name, port, constName);
  if (!registerInHelmValues(tree, name, kind, { port, managementPort }, `${constName}_SHUTDOWN_TIMEOUT_MS`)) {
    console.warn(`${HELM_VALUES_PATH} has no services: map; add services.${name} there once the chart has one.`);
  }
}

export default serviceGenerator;
