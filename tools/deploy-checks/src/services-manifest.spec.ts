/**
 * The chart's `services` map and the repository's service manifest (services.json) name the same
 * services with the same wiring, and a service added the way the generator adds it (a minimal
 * values entry: enabled, kind, port, managementPort) gets a complete set of objects from the generic
 * templates without touching them. Its objects are also validated against the Kubernetes schemas in
 * kubernetes-schemas.spec.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import {
  type RenderedSet,
  extraRenderedSets,
  find,
  only,
  release,
  renderedSet,
  workspaceRoot,
} from './support/rendered-chart';
import { COMPONENT_LABEL, matches, preStopSeconds, resolveEnv, workload, workloads } from './support/workloads';

/** The fields of a services.json entry this check compares (the manifest may carry more). */
interface ManifestEntry {
  kind: string;
  port: number;
  managementPort: number;
  public: boolean;
  envGroups: string[];
  shutdownTimeoutEnv?: string;
}

interface ValuesEntry {
  enabled?: boolean;
  kind: string;
  port: number;
  managementPort: number;
  public?: boolean;
  envGroups?: string[];
  shutdownTimeoutEnv?: string;
}

// Read as JSON until @seqcast/service-manifest lands (the contract allows it); same file, same shape.
const manifest = (
  JSON.parse(readFileSync(join(workspaceRoot, 'services.json'), 'utf8')) as {
    services: Record<string, ManifestEntry>;
  }
).services;
const values = parse(readFileSync(join(workspaceRoot, 'helm/seqcast/values.yaml'), 'utf8')) as {
  serviceDefaults: Omit<ValuesEntry, 'kind' | 'port' | 'managementPort'>;
  services: Record<string, ValuesEntry>;
};
/** The env groups the chart renders; a manifest's own group (e.g. "ingest-api") is the entry's `env`. */
const CHART_ENV_GROUPS = ['common', 'kafka', 'database', 'auth', 'origins'];
const fullname = `${release().name}-seqcast`;

describe('values.yaml `services` and services.json', () => {
  it('name the same services', () => {
    expect(Object.keys(values.services).sort()).toEqual(Object.keys(manifest).sort());
  });

  describe.each(Object.keys(manifest).map((name) => [name] as const))('%s', (name) => {
    const inManifest = manifest[name];
    const inValues = { ...values.serviceDefaults, ...values.services[name] };

    it('agrees on kind, port and management port', () => {
      expect({ kind: inValues.kind, port: inValues.port, managementPort: inValues.managementPort }).toEqual({
        kind: inManifest.kind,
        port: inManifest.port,
        managementPort: inManifest.managementPort,
      });
    });

    it('agrees on whether it is public, its env groups and its shutdown variable', () => {
      expect({
        public: inValues.public ?? inValues.kind !== 'worker',
        envGroups: [...(inValues.envGroups ?? [])].sort(),
        shutdownTimeoutEnv: inValues.shutdownTimeoutEnv ?? '',
      }).toEqual({
        public: inManifest.public,
        envGroups: inManifest.envGroups.filter((g) => CHART_ENV_GROUPS.includes(g)).sort(),
        shutdownTimeoutEnv: inManifest.shutdownTimeoutEnv ?? '',
      });
    });

    it('is deployed by the default values, with the manifest ports on the container', () => {
      const w = workload(renderedSet('defaults'), name);
      expect(w.container.ports).toEqual([
        { name: 'http', containerPort: inManifest.port, protocol: 'TCP' },
        { name: 'management', containerPort: inManifest.managementPort, protocol: 'TCP' },
      ]);
    });
  });

  it('the default values deploy exactly the enabled entries', () => {
    const enabled = Object.entries(values.services)
      .filter(([, entry]) => entry.enabled ?? values.serviceDefaults.enabled ?? true)
      .map(([name]) => name);
    expect(
      workloads(renderedSet('defaults'))
        .map((w) => w.component)
        .sort(),
    ).toEqual(enabled.sort());
  });
});

describe('a service added as the generator adds it (tools/helm/extra-sets/generated-service-values.yaml)', () => {
  const set: RenderedSet = renderedSet('generated-service');
  const extraValues = parse(readFileSync(join(workspaceRoot, set.valuesFile ?? ''), 'utf8')) as {
    services: Record<string, ValuesEntry>;
  };
  const [name, entry] = Object.entries(extraValues.services)[0];
  const objectName = `${fullname}-${name}`;

  it('is a minimal entry of a service that is not in the chart yet', () => {
    expect(extraRenderedSets().map((s) => s.name)).toContain('generated-service');
    expect(Object.keys(entry).sort()).toEqual(['enabled', 'kind', 'managementPort', 'port']);
    expect(Object.keys(values.services)).not.toContain(name);
  });

  it('gets a ConfigMap, Deployment, Service and PodDisruptionBudget, plus the optional objects switched on', () => {
    for (const kind of ['ConfigMap', 'Deployment', 'Service', 'PodDisruptionBudget', 'NetworkPolicy', 'ServiceMonitor'])
      expect({ kind, count: find(set, kind, objectName).length }).toEqual({ kind, count: 1 });
    expect(find(set, 'HorizontalPodAutoscaler', objectName)).toHaveLength(0);
    expect(find(set, 'Ingress', objectName)).toHaveLength(0);
  });

  it('listens on its ports, is probed on its management port and runs its own image with the defaults', () => {
    const w = workload(set, name);
    const env = resolveEnv(set, w);
    expect(w.container.ports).toEqual([
      { name: 'http', containerPort: entry.port, protocol: 'TCP' },
      { name: 'management', containerPort: entry.managementPort, protocol: 'TCP' },
    ]);
    expect(env.broken).toEqual([]);
    expect(env.values).toMatchObject({
      PORT: String(entry.port),
      MANAGEMENT_PORT: String(entry.managementPort),
      HOST: '0.0.0.0',
      NODE_ENV: 'production',
      LOG_LEVEL: 'log',
    });
    expect(w.container.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'management' });
    expect(w.container.startupProbe?.httpGet).toEqual({ path: '/healthz', port: 'management' });
    expect(w.container.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'management' });
    expect(w.container.image).toBe(`seqcast/${name}:0.1.0`);
    expect(w.replicas).toBe(2);
    expect(w.pod.terminationGracePeriodSeconds).toBe(30);
    expect(preStopSeconds(w.container)).toBe(5);
    expect(w.container.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
    });
  });

  it('reads the default env groups (common, kafka, database), with the database URL from the Secret and no auth', () => {
    const w = workload(set, name);
    const env = resolveEnv(set, w);
    expect(Object.keys(env.values)).toEqual(
      expect.arrayContaining([
        'KAFKA_BROKERS',
        'SEQCAST_MESSAGES_TOPIC',
        'SEQCAST_PARTITIONS',
        'DATABASE_RUN_MIGRATIONS',
      ]),
    );
    expect(env.sources['DATABASE_URL']).toBe('chartSecret');
    expect(Object.keys(env.values).filter((n) => n.startsWith('SEQCAST_JWT_'))).toEqual([]);
  });

  it('is selected by its own Service, PDB and ServiceMonitor only, and is checked by helm test', () => {
    const w = workload(set, name);
    expect(w.selector[COMPONENT_LABEL]).toBe(name);
    expect(workloads(set).filter((o) => o.component !== name && matches(w.selector, o.podLabels))).toEqual([]);
    const svc = only(set, 'Service', objectName).spec as {
      selector: Record<string, string>;
      ports: { name: string; port: number }[];
      sessionAffinity?: string;
    };
    expect(svc.selector).toEqual(w.selector);
    expect(svc.ports.map((p) => p.name)).toEqual(['http', 'management']);
    expect(svc.sessionAffinity).toBeUndefined();
    const targets = (set.hooks[0].spec as { containers: { env: { name: string; value: string }[] }[] }).containers[0]
      .env;
    expect(targets.find((e) => e.name === 'TARGETS')?.value.split(' ')).toContain(`http://${objectName}:80/readyz`);
    expect(set.notes).toContain(`http://${objectName}.`);
  });

  it('leaves the three existing services exactly as the default values render them', () => {
    const defaults = renderedSet('defaults');
    for (const existing of Object.keys(values.services)) {
      for (const kind of ['Deployment', 'Service', 'ConfigMap', 'PodDisruptionBudget']) {
        expect(only(set, kind, `${fullname}-${existing}`)).toEqual(only(defaults, kind, `${fullname}-${existing}`));
      }
    }
  });
});
