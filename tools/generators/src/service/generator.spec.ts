import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readJson, type Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { parse } from 'yaml';
import {
  COMPOSE_PATH,
  CONFIG_INDEX_PATH,
  ENV_GROUPS_PATH,
  HELM_VALUES_PATH,
  MANIFEST_PATH,
  serviceGenerator,
} from './generator';

const workspaceRoot = join(__dirname, '../../../..');
const fromWorkspace = (path: string) => readFileSync(join(workspaceRoot, path), 'utf8');

/** The files the generator edits, as they are in this workspace; a chart values file with a services map. */
function workspaceTree(helmValues = 'serviceDefaults:\n  replicaCount: 1\n# The services, keyed by services.json name.\nservices:\n  ingest-api:\n    enabled: true\n    kind: http\n    port: 3000\n    managementPort: 9000\n'): Tree {
  const tree = createTreeWithEmptyWorkspace();
  for (const path of [MANIFEST_PATH, ENV_GROUPS_PATH, CONFIG_INDEX_PATH, COMPOSE_PATH]) tree.write(path, fromWorkspace(path));
  tree.write(HELM_VALUES_PATH, helmValues);
  return tree;
}

describe('nx g @seqcast/tools:service', () => {
  let tree: Tree;
  beforeEach(() => {
    tree = workspaceTree();
    jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    serviceGenerator(tree, { name: 'presence-api', description: 'who is online in a room' });
  });

  it('scaffolds a NestJS app on bootstrapService with config, metrics, readiness and a unit test', () => {
    for (const file of ['project.json', 'webpack.config.cjs', 'jest.config.cjs', 'tsconfig.json', 'src/main.ts', 'src/app.module.ts', 'src/config.ts', 'src/config.spec.ts']) {
      expect(tree.exists(`apps/presence-api/${file}`)).toBe(true);
    }
    expect(tree.read('apps/presence-api/src/main.ts', 'utf-8')).toContain('void bootstrapService({');
    const appModule = tree.read('apps/presence-api/src/app.module.ts', 'utf-8');
    expect(appModule).toContain("export const SERVICE = 'presence-api';");
    expect(appModule).toMatch(/MetricsModule\.forRoot[\s\S]*HealthModule\.forRoot[\s\S]*platformReadinessChecks/);
    expect(tree.read('apps/presence-api/src/config.ts', 'utf-8')).toContain('export function loadPresenceApiConfig(');
  });

  it('tags the project for the module-boundary rules', () => {
    expect(readJson(tree, 'apps/presence-api/project.json').tags).toEqual(['scope:presence-api', 'type:app']);
  });

  it('gives it its own env group in @seqcast/config, registered and exported', () => {
    const group = tree.read('libs/shared/config/src/lib/services/presence-api.ts', 'utf-8');
    expect(group).toContain('export const presenceApiEnv = {');
    expect(group).toContain('PORT: envField.port(3004)');
    expect(group).toContain('...managementEnv(9004)');
    expect(group).toContain('PRESENCE_API_SHUTDOWN_TIMEOUT_MS');
    const groups = tree.read(ENV_GROUPS_PATH, 'utf-8');
    expect(groups).toContain("import { presenceApiEnv } from './services/presence-api';");
    expect(groups).toMatch(/'presence-api': \{\n {4}shape: presenceApiEnv,[\s\S]*\n {2}\/\/ New service groups go above this line/);
    expect(tree.read(CONFIG_INDEX_PATH, 'utf-8')).toContain("export { presenceApiEnv } from './lib/services/presence-api';");
  });

  it('registers it in services.json on the next free ports', () => {
    const manifest = readJson(tree, MANIFEST_PATH);
    expect(Object.keys(manifest.services)).toEqual(['ingest-api', 'ordering-worker', 'edge-gateway', 'presence-api']);
    expect(manifest.services['presence-api']).toEqual({
      description: 'who is online in a room',
      project: 'presence-api',
      kind: 'http',
      port: 3004,
      managementPort: 9004,
      public: true,
      probes: { startup: '/healthz', liveness: '/healthz', readiness: '/readyz' },
      metricsPath: '/metrics',
      envGroups: ['common', 'kafka', 'database', 'presence-api'],
      shutdownTimeoutEnv: 'PRESENCE_API_SHUTDOWN_TIMEOUT_MS',
    });
    serviceGenerator(tree, { name: 'audit-worker', kind: 'worker' });
    const next = readJson(tree, MANIFEST_PATH).services['audit-worker'];
    expect([next.port, next.managementPort, next.public]).toEqual([3005, 9005, false]);
  });

  it('adds a compose service like the others, keeping the file’s comments and anchors', () => {
    const text = tree.read(COMPOSE_PATH, 'utf-8') ?? '';
    expect(text).toContain(fromWorkspace(COMPOSE_PATH).split('\n')[0]);
    expect(text).toMatch(/ {4}environment:\n {6}<<: \*seqcast-env\n/);
    expect(text).toContain('- "3004:3004"');
    const compose = parse(text, { merge: true });
    expect(compose.services['presence-api']).toMatchObject({
      build: { context: '..', dockerfile: 'docker/Dockerfile', args: { SERVICE: 'presence-api', PORT: '3004' } },
      environment: { PORT: '3004', KAFKA_BROKERS: 'kafka:19092', PRESENCE_API_SHUTDOWN_TIMEOUT_MS: '15000' },
      ports: ['3004:3004'],
      depends_on: { kafka: { condition: 'service_healthy' } },
    });
  });

  it('adds the Helm values entry: kind, ports and the shutdown wiring, keeping comments', () => {
    const text = tree.read(HELM_VALUES_PATH, 'utf-8') ?? '';
    expect(text).toContain('# The services, keyed by services.json name.');
    expect(parse(text).services['presence-api']).toEqual({
      enabled: true,
      kind: 'http',
      port: 3004,
      managementPort: 9004,
      shutdownTimeoutEnv: 'PRESENCE_API_SHUTDOWN_TIMEOUT_MS',
      env: { PRESENCE_API_SHUTDOWN_TIMEOUT_MS: 15000 },
    });
  });

  it('leaves a values file without a services map alone (and says so)', () => {
    const older = workspaceTree('edgeGateway:\n  replicaCount: 2\n');
    serviceGenerator(older, { name: 'presence-api' });
    expect(older.read(HELM_VALUES_PATH, 'utf-8')).toBe('edgeGateway:\n  replicaCount: 2\n');
    expect(console.warn).toHaveBeenCalledWith(expect.stringContaining('no services: map'));
  });

  it('refuses a name that is not kebab-case or already taken', () => {
    expect(() => serviceGenerator(tree, { name: 'PresenceApi' })).toThrow(/must be kebab-case/);
    expect(() => serviceGenerator(tree, { name: 'presence-api' })).toThrow(/already exists/);
    expect(() => serviceGenerator(tree, { name: 'other', port: 3000 })).toThrow(/port 3000 is already taken/);
  });
});
