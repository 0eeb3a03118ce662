/**
 * Every object the chart renders, for every values set (and every extra set, e.g. a generated fourth
 * service), is valid against the Kubernetes API schemas (kubernetes-models, generated from the
 * Kubernetes OpenAPI spec). ServiceMonitor is a Prometheus Operator CRD that kubernetes-models does
 * not cover: its shape is checked by hand.
 */
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Pod, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { type K8sObject, extraRenderedSets, renderedSets } from './support/rendered-chart';

type Validate = (object: K8sObject) => void;
const model =
  (Model: new (data: never) => { validate(): void }): Validate =>
  (object) =>
    new Model(object as never).validate();

const VALIDATORS: Record<string, Validate> = {
  'apps/v1/Deployment': model(Deployment),
  'autoscaling/v2/HorizontalPodAutoscaler': model(HorizontalPodAutoscaler),
  'networking.k8s.io/v1/Ingress': model(Ingress),
  'networking.k8s.io/v1/NetworkPolicy': model(NetworkPolicy),
  'policy/v1/PodDisruptionBudget': model(PodDisruptionBudget),
  'v1/ConfigMap': model(ConfigMap),
  'v1/Pod': model(Pod),
  'v1/Secret': model(Secret),
  'v1/Service': model(Service),
  'v1/ServiceAccount': model(ServiceAccount),
  'monitoring.coreos.com/v1/ServiceMonitor': validateServiceMonitor,
};

const DURATION = /^\d+(ms|s|m|h)$/;

/** The fields of monitoring.coreos.com/v1 ServiceMonitor the chart sets, per the operator's CRD. */
function validateServiceMonitor(object: K8sObject): void {
  const spec = object.spec as { selector?: { matchLabels?: unknown }; endpoints?: unknown } | undefined;
  const problems: string[] = [];
  const labels = spec?.selector?.matchLabels;
  if (!labels || typeof labels !== 'object' || Object.values(labels).some((v) => typeof v !== 'string')) {
    problems.push('spec.selector.matchLabels must map strings to strings');
  }
  if (!Array.isArray(spec?.endpoints) || spec.endpoints.length === 0)
    problems.push('spec.endpoints must be a non-empty list');
  for (const [i, endpoint] of ((spec?.endpoints as Record<string, unknown>[] | undefined) ?? []).entries()) {
    if (typeof endpoint['port'] !== 'string') problems.push(`spec.endpoints[${i}].port must be a port name`);
    if (typeof endpoint['path'] !== 'string' || !endpoint['path'].startsWith('/'))
      problems.push(`spec.endpoints[${i}].path must start with /`);
    for (const field of ['interval', 'scrapeTimeout']) {
      if (endpoint[field] !== undefined && !DURATION.test(String(endpoint[field])))
        problems.push(`spec.endpoints[${i}].${field} must be a duration`);
    }
  }
  if (problems.length > 0) throw new Error(problems.join('; '));
}

/** RFC 1123 label (Services, container names) and subdomain (everything else), as the API server checks. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

// The extra sets too: a service added the way the generator adds it must render valid objects.
const sets = [...renderedSets(), ...extraRenderedSets()];

describe.each(sets.map((s) => [s.name, s] as const))('values set "%s"', (_name, set) => {
  const all = [...set.objects, ...set.hooks];

  it('renders objects of known kinds only', () => {
    expect(set.objects.length).toBeGreaterThan(0);
    const unknown = all.map((o) => `${o.apiVersion}/${o.kind}`).filter((k) => !(k in VALIDATORS));
    expect(unknown).toEqual([]);
  });

  it.each(all.map((o) => [`${o.kind} ${o.metadata?.name}`, o] as const))(
    '%s is valid against its schema',
    (_label, object) => {
      const validate = VALIDATORS[`${object.apiVersion}/${object.kind}`];
      expect(validate).toBeDefined();
      expect(() => validate(object)).not.toThrow();
    },
  );

  it('names every object as the API server requires', () => {
    for (const object of all) {
      const name = object.metadata.name;
      const rule = object.kind === 'Service' ? DNS_LABEL : DNS_SUBDOMAIN;
      const limit = object.kind === 'Service' ? 63 : 253;
      expect({ kind: object.kind, name, valid: rule.test(name) && name.length <= limit }).toEqual({
        kind: object.kind,
        name,
        valid: true,
      });
    }
  });

  it('renders no two objects of one kind with the same name', () => {
    const keys = all.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(keys.filter((k, i) => keys.indexOf(k) !== i)).toEqual([]);
  });
});
