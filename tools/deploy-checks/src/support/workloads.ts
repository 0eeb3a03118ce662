/** Typed views of the rendered workloads, and each container's environment as its process sees it. */
import { type K8sObject, type RenderedSet, find } from './rendered-chart';

export interface Probe {
  httpGet?: { path?: string; port?: string | number };
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string };
    configMapKeyRef?: { name: string; key: string };
    fieldRef?: { fieldPath: string };
  };
}

export interface Container {
  name: string;
  image: string;
  ports?: { name?: string; containerPort: number }[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command?: string[] }; sleep?: { seconds: number } } };
  securityContext?: Record<string, unknown>;
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}

export interface PodSpec {
  containers: Container[];
  terminationGracePeriodSeconds?: number;
  securityContext?: Record<string, unknown>;
  volumes?: { name: string; secret?: { secretName: string; items?: { key: string; path: string }[] } }[];
  imagePullSecrets?: { name: string }[];
}

export interface Workload {
  object: K8sObject;
  component: string;
  replicas: number | undefined;
  selector: Record<string, string>;
  podLabels: Record<string, string>;
  pod: PodSpec;
  container: Container;
}

export const COMPONENT_LABEL = 'app.kubernetes.io/component';

export function workloads(set: RenderedSet): Workload[] {
  return find(set, 'Deployment').map((object) => {
    const spec = object.spec as {
      replicas?: number;
      selector: { matchLabels: Record<string, string> };
      template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
    };
    const component = object.metadata.labels?.[COMPONENT_LABEL] ?? '';
    const container = spec.template.spec.containers.find((c) => c.name === component);
    if (!container)
      throw new Error(`${set.name}: Deployment ${object.metadata.name} has no container named "${component}"`);
    return {
      object,
      component,
      replicas: spec.replicas,
      selector: spec.selector.matchLabels,
      podLabels: spec.template.metadata.labels,
      pod: spec.template.spec,
      container,
    };
  });
}

export function workload(set: RenderedSet, component: string): Workload {
  const found = workloads(set).filter((w) => w.component === component);
  if (found.length !== 1)
    throw new Error(`${set.name}: expected one Deployment of ${component}, found ${found.length}`);
  return found[0];
}

/** Where an env var's value comes from. */
export type EnvSource = 'configMap' | 'value' | 'chartSecret' | 'externalSecret' | 'fieldRef';

export interface ResolvedEnv {
  values: Record<string, string>;
  sources: Record<string, EnvSource>;
  /** References the rendered objects cannot satisfy (missing ConfigMap, Secret key, ...). */
  broken: string[];
  /**
   * Secrets the operator provides whose keys all become env vars (`envFrom`, extraEnvVarsSecret):
   * their variables cannot be known from the rendered objects.
   */
  externalEnvFromSecrets: string[];
}

/**
 * Values that stand in for Secrets the chart does not manage (auth.existingSecret and
 * database.existingSecret): the operator provides them; they only need the right shape here.
 */
const EXTERNAL_SECRET_STAND_INS: Record<string, string> = {
  DATABASE_URL: 'postgres://seqcast:from-existing-secret@postgresql:5432/seqcast',
  SEQCAST_JWT_SECRET: 'a-jwt-secret-from-an-existing-secret-0123456789',
};

function decode(secret: K8sObject, key: string): string | undefined {
  const data = secret.data?.[key];
  if (data !== undefined) return Buffer.from(data, 'base64').toString('utf8');
  const stringData = (secret['stringData'] as Record<string, string> | undefined)?.[key];
  return stringData;
}

/** The environment the container's process starts with, resolved from the rendered objects. */
export function resolveEnv(set: RenderedSet, w: Workload): ResolvedEnv {
  const result: ResolvedEnv = { values: {}, sources: {}, broken: [], externalEnvFromSecrets: [] };
  const put = (name: string, value: string | undefined, source: EnvSource) => {
    if (value === undefined) return;
    result.values[name] = value;
    result.sources[name] = source;
  };
  const configMap = (name: string) => find(set, 'ConfigMap', name)[0];
  const secret = (name: string) => find(set, 'Secret', name)[0];

  for (const from of w.container.envFrom ?? []) {
    if (from.configMapRef) {
      const cm = configMap(from.configMapRef.name);
      if (!cm) result.broken.push(`envFrom ConfigMap ${from.configMapRef.name} is not rendered`);
      for (const [k, v] of Object.entries(cm?.data ?? {})) put(k, v, 'configMap');
    }
    if (from.secretRef) {
      const s = secret(from.secretRef.name);
      if (!s) {
        result.externalEnvFromSecrets.push(from.secretRef.name);
        continue;
      }
      for (const k of Object.keys(s?.data ?? {})) put(k, decode(s, k), 'chartSecret');
    }
  }
  for (const env of w.container.env ?? []) {
    const ref = env.valueFrom;
    if (env.value !== undefined || !ref) {
      put(env.name, env.value ?? '', 'value');
    } else if (ref.secretKeyRef) {
      const s = secret(ref.secretKeyRef.name);
      if (!s) {
        put(env.name, EXTERNAL_SECRET_STAND_INS[env.name] ?? 'value-from-an-existing-secret', 'externalSecret');
      } else {
        const value = decode(s, ref.secretKeyRef.key);
        if (value === undefined)
          result.broken.push(`${env.name}: Secret ${s.metadata.name} has no key ${ref.secretKeyRef.key}`);
        put(env.name, value, 'chartSecret');
      }
    } else if (ref.configMapKeyRef) {
      const value = configMap(ref.configMapKeyRef.name)?.data?.[ref.configMapKeyRef.key];
      if (value === undefined)
        result.broken.push(
          `${env.name}: ConfigMap key ${ref.configMapKeyRef.name}/${ref.configMapKeyRef.key} is not rendered`,
        );
      put(env.name, value, 'configMap');
    } else if (ref.fieldRef?.fieldPath === 'metadata.name') {
      put(env.name, `${w.object.metadata.name}-7c9d8b6f5d-x4k2p`, 'fieldRef');
    } else {
      result.broken.push(`${env.name}: unsupported valueFrom ${JSON.stringify(ref)}`);
    }
  }
  return result;
}

/** Seconds a preStop hook holds the container before SIGTERM (0 without one). */
export function preStopSeconds(container: Container): number {
  const preStop = container.lifecycle?.preStop;
  if (!preStop) return 0;
  if (preStop.sleep) return preStop.sleep.seconds;
  const command = preStop.exec?.command ?? [];
  if (command[0] === 'sleep' && command.length === 2 && /^\d+$/.test(command[1])) return Number(command[1]);
  throw new Error(`${container.name}: cannot tell how long preStop ${JSON.stringify(preStop)} takes`);
}

export function matches(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}
