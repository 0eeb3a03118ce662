/**
 * Invariants that keep the chart honest against the code, asserted on what the real Helm engine
 * rendered: ports and probe paths are the ones the apps serve, every env var the chart sets is one
 * the app's own config schema reads (and the app would accept the whole environment), every knob
 * the app reads is exposed (at the app's default), the grace period outlasts preStop + the app's
 * own forced-exit deadline, secrets stay in Secrets, and selectors select what they mean to.
 */
import {
  type K8sObject,
  find,
  lintResult,
  only,
  release,
  renderProblems,
  renderedSet,
  renderedSets,
} from './support/rendered-chart';
import {
  SERVICES,
  defaultManagementPort,
  defaultPort,
  effectiveEnv,
  ownEnvNames,
  requiredEnvNames,
  forcedExitMs,
  service,
  startupProblems,
  unknownEnvNames,
  verifiesJwt,
} from './support/services';
import { COMPONENT_LABEL, matches, preStopSeconds, resolveEnv, workload, workloads } from './support/workloads';

const sets = renderedSets();
/** The services this repository ships; a generated one (the generator's CI check) comes on top. */
const SHIPPED_SERVICES = ['ingest-api', 'ordering-worker', 'edge-gateway'];
const fullname = `${release().name}-seqcast`;
/** Variables whose values are secrets: they may only come from a Secret (secretKeyRef). */
const SECRET_NAMES = ['SEQCAST_JWT_SECRET', 'DATABASE_URL', 'KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'];
/**
 * Variables the services read that the chart deliberately leaves to `extraEnv` /
 * `extraEnvVarsSecret` (SEQCAST_REDIS_URL may carry a password: users set it from their own Secret;
 * the chart passes the SASL password as KAFKA_SASL_PASSWORD from a Secret, not as a file).
 */
const LEFT_TO_EXTRA_ENV = ['KAFKA_CLIENT_ID', 'KAFKA_CLIENT', 'SEQCAST_REDIS_URL', 'KAFKA_SASL_PASSWORD_FILE'];
/** Set only with `kafka.sasl.mechanism` (from its Secret): without SASL there is nothing to set. */
const ONLY_WITH_SASL = ['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'];

/**
 * The environment to ask the service about: variables naming files the chart mounts from Secrets
 * (TLS CAs, client certificates, the JWT public key) point at files that exist only in the pod, so
 * they are left out; the rules between the other variables still apply.
 */
function withoutMountedFiles(values: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(values).filter(([name, value]) => !(name.endsWith('_FILE') && value.startsWith('/etc/seqcast/'))),
  );
}

/** With a JWKS URL or a PEM key as the key source there is no shared secret: exactly one source is set. */
function keySourceIsSecret(values: Record<string, string | undefined>): boolean {
  return !values['SEQCAST_JWT_JWKS_URL'] && !values['SEQCAST_JWT_PUBLIC_KEY_FILE'];
}

it('helm lint --strict passes and every values set renders', () => {
  expect(lintResult().failed).toBe(false);
  expect(lintResult().messages.filter((m) => !m.startsWith('[INFO]'))).toEqual([]);
  expect(renderProblems()).toEqual([]);
  expect(sets.map((s) => s.name)).toEqual(
    expect.arrayContaining(['defaults', 'hpa', 'service-monitor', 'existing-secrets', 'ingress']),
  );
});

describe.each(sets.map((s) => [s.name, s] as const))('values set "%s"', (_name, set) => {
  it('deploys each service exactly once', () => {
    expect(
      workloads(set)
        .map((w) => w.component)
        .sort(),
    ).toEqual(SERVICES.map((s) => s.name).sort());
  });

  describe.each(SERVICES.map((s) => [s.name, s] as const))('%s', (_service, spec) => {
    const w = workload(set, spec.name);
    const env = resolveEnv(set, w);

    it('listens where the container port, the PORT variable and the app agree', () => {
      const http = w.container.ports?.find((p) => p.name === 'http');
      expect(http?.containerPort).toBe(defaultPort(spec));
      expect(env.values['PORT']).toBe(String(defaultPort(spec)));
      expect(env.values['HOST']).toBe('0.0.0.0');
    });

    it('serves management where the container port, MANAGEMENT_PORT and the app agree, apart from the public port', () => {
      const management = w.container.ports?.find((p) => p.name === 'management');
      expect(management?.containerPort).toBe(defaultManagementPort(spec));
      expect(env.values['MANAGEMENT_PORT']).toBe(String(defaultManagementPort(spec)));
      expect(management?.containerPort).not.toBe(defaultPort(spec));
    });

    it('probes /healthz for liveness and start-up and /readyz for readiness, on the management port', () => {
      expect(w.container.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'management' });
      expect(w.container.startupProbe?.httpGet).toEqual({ path: '/healthz', port: 'management' });
      expect(w.container.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'management' });
    });

    it('sets only env vars that the app config schema reads', () => {
      expect(env.broken).toEqual([]);
      expect(unknownEnvNames(spec, env.values)).toEqual([]);
    });

    it('sets every env var the app reads (each one a documented value), except those left to extraEnv', () => {
      expect(
        Object.keys(spec.envShape).filter(
          (name) =>
            !(name in env.values) &&
            !LEFT_TO_EXTRA_ENV.includes(name) &&
            !(ONLY_WITH_SASL.includes(name) && !env.values['KAFKA_SASL_MECHANISM']) &&
            !(name === 'SEQCAST_JWT_SECRET' && !keySourceIsSecret(env.values)),
        ),
      ).toEqual([]);
    });

    it('sets every required env var, and the app would accept the environment', () => {
      expect(requiredEnvNames(spec).filter((name) => !(name in env.values))).toEqual([]);
      expect(env.values['NODE_ENV']).toBeDefined();
      expect(startupProblems(spec, withoutMountedFiles(env.values))).toEqual([]);
    });

    it('takes secrets from Secrets, never from a ConfigMap or a literal value', () => {
      const secretNames = SECRET_NAMES.filter((n) => n !== 'SEQCAST_JWT_SECRET' || keySourceIsSecret(env.values));
      // The SASL credentials are secrets when set; without SASL they are rightly absent.
      const expected = secretNames.filter(
        (n) => n in env.values || (n in spec.envShape && !ONLY_WITH_SASL.includes(n)),
      );
      for (const name of expected) {
        expect({ name, source: env.sources[name] }).toEqual({
          name,
          source: expect.stringMatching(/^(chartSecret|externalSecret)$/),
        });
      }
      if (verifiesJwt(spec) && keySourceIsSecret(env.values)) {
        expect(env.values['SEQCAST_JWT_SECRET']?.length).toBeGreaterThanOrEqual(32);
      }
      if (!keySourceIsSecret(env.values)) expect(env.values['SEQCAST_JWT_SECRET']).toBeUndefined();
    });

    it(`gives the pod longer to stop than preStop plus the app's forced exit (from ${spec.shutdownTimeoutEnv})`, () => {
      expect(env.values[spec.shutdownTimeoutEnv]).toBeDefined();
      const forcedExitS = Math.ceil(forcedExitMs(spec, withoutMountedFiles(env.values)) / 1000);
      const grace = w.pod.terminationGracePeriodSeconds ?? 30;
      expect(grace).toBeGreaterThan(preStopSeconds(w.container) + forcedExitS);
    });

    it('runs as non-root on a read-only root filesystem with a writable /tmp', () => {
      expect(w.pod.securityContext?.['runAsNonRoot']).toBe(true);
      expect(w.container.securityContext).toMatchObject({
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
      });
      expect(w.container.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
    });

    it('selects its own pods only, from Deployment, Service, PDB, HPA and ServiceMonitor', () => {
      expect(w.selector[COMPONENT_LABEL]).toBe(spec.name);
      expect(matches(w.selector, w.podLabels)).toBe(true);
      const others = workloads(set).filter((o) => o.component !== spec.name);
      expect(others.filter((o) => matches(w.selector, o.podLabels))).toEqual([]);

      const svc = only(set, 'Service', `${fullname}-${spec.name}`);
      const svcSpec = svc.spec as { selector: Record<string, string>; ports: { name: string; targetPort: string }[] };
      expect(svcSpec.selector).toEqual(w.selector);
      expect(svcSpec.ports).toContainEqual(expect.objectContaining({ name: 'http', targetPort: 'http' }));
      for (const policy of find(set, 'NetworkPolicy', `${fullname}-${spec.name}`)) {
        expect(
          (policy.spec as { podSelector: { matchLabels: Record<string, string> } }).podSelector.matchLabels,
        ).toEqual(w.selector);
      }

      const pdb = only(set, 'PodDisruptionBudget', `${fullname}-${spec.name}`);
      expect((pdb.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels).toEqual(
        w.selector,
      );
      expect((pdb.spec as { maxUnavailable?: number }).maxUnavailable).toBeGreaterThanOrEqual(1);

      for (const hpa of find(set, 'HorizontalPodAutoscaler', `${fullname}-${spec.name}`)) {
        expect((hpa.spec as { scaleTargetRef: unknown }).scaleTargetRef).toEqual({
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          name: w.object.metadata.name,
        });
        expect(w.replicas).toBeUndefined();
      }
      for (const monitor of find(set, 'ServiceMonitor', `${fullname}-${spec.name}`)) {
        const monitorSpec = monitor.spec as {
          selector: { matchLabels: Record<string, string> };
          endpoints: { port: string }[];
        };
        expect(matches(monitorSpec.selector.matchLabels, svc.metadata.labels)).toBe(true);
        // Metrics live on the management port only (the public port answers 404).
        expect(monitorSpec.endpoints.map((e) => e.port)).toEqual(['management']);
        expect(svcSpec.ports).toContainEqual(expect.objectContaining({ name: 'management', targetPort: 'management' }));
      }
    });
  });

  it('labels every object with the app.kubernetes.io set and the release', () => {
    for (const object of [...set.objects, ...set.hooks]) {
      expect({ object: `${object.kind}/${object.metadata.name}`, labels: object.metadata.labels }).toEqual({
        object: `${object.kind}/${object.metadata.name}`,
        labels: expect.objectContaining({
          'app.kubernetes.io/name': 'seqcast',
          'app.kubernetes.io/instance': release().name,
          'app.kubernetes.io/managed-by': 'Helm',
          'app.kubernetes.io/part-of': 'seqcast',
          'helm.sh/chart': expect.stringMatching(/^seqcast-/),
        }),
      });
    }
  });

  it("never sets the chaos suite's test-only worker crash hook (SEQCAST_FAULT_POINT)", () => {
    // libs/ordering/sequencer fault-point.ts: a worker with it set can be told to SIGKILL itself.
    expect(JSON.stringify([set.objects, set.hooks])).not.toContain('SEQCAST_FAULT_POINT');
  });

  it('never puts a secret into a ConfigMap', () => {
    for (const cm of find(set, 'ConfigMap')) {
      expect(Object.keys(cm.data ?? {}).filter((k) => SECRET_NAMES.includes(k))).toEqual([]);
    }
  });

  it('keeps the JWT secret in a Secret: the chart one, or the named existing one', () => {
    const verifiers = workloads(set).filter((w) => verifiesJwt(service(w.component)));
    const jwtRefs = verifiers
      .filter((w) => keySourceIsSecret(resolveEnv(set, w).values))
      .map((w) => w.container.env?.find((e) => e.name === 'SEQCAST_JWT_SECRET')?.valueFrom?.secretKeyRef);
    expect(verifiers).toHaveLength(2);
    for (const ref of jwtRefs) {
      expect(ref).toBeDefined();
      const secret = find(set, 'Secret', ref?.name ?? '')[0] as K8sObject | undefined;
      if (secret) expect(Object.keys(secret.data ?? {})).toContain(ref?.key);
    }
  });

  it('never runs more workers than there are partitions', () => {
    const w = workload(set, 'ordering-worker');
    const partitions = Number(resolveEnv(set, w).values['SEQCAST_PARTITIONS']);
    expect(w.replicas).toBeDefined();
    expect(w.replicas).toBeLessThanOrEqual(partitions);
  });

  it('has a helm test pod that checks /readyz of every component through its Service', () => {
    const [pod] = set.hooks;
    expect(set.hooks).toHaveLength(1);
    expect(pod.metadata.annotations?.['render.seqcast.io/hook']).toBe('test');
    const targets = (pod.spec as { containers: { env: { name: string; value: string }[] }[] }).containers[0].env.find(
      (e) => e.name === 'TARGETS',
    )?.value;
    const expected = SERVICES.map((s) => {
      const svc = only(set, 'Service', `${fullname}-${s.name}`);
      const port = (svc.spec as { ports: { port: number }[] }).ports[0].port;
      return `http://${svc.metadata.name}:${port}/readyz`;
    });
    expect(targets?.split(' ').sort()).toEqual(expected.sort());
  });

  it('renders NOTES.txt', () => {
    expect(set.notes).toContain(`release "${release().name}"`);
  });
});

describe('values sets, one feature each', () => {
  const count = (setName: string, kind: string) => find(renderedSet(setName), kind).length;

  it('defaults: every service with Service, PDB and ConfigMap, one Secret; nothing optional', () => {
    for (const kind of ['Deployment', 'Service', 'PodDisruptionBudget', 'ConfigMap'])
      expect(count('defaults', kind)).toBe(SERVICES.length);
    expect(count('defaults', 'Secret')).toBe(1);
    expect(count('defaults', 'ServiceAccount')).toBe(1);
    for (const kind of ['HorizontalPodAutoscaler', 'Ingress', 'ServiceMonitor', 'NetworkPolicy'])
      expect(count('defaults', kind)).toBe(0);
    expect(renderedSet('defaults').notes).toContain('The JWT signing secret was generated');
  });

  it.each(SERVICES.map((s) => [s.name, s] as const))(
    "defaults: %s gets the app's own default for each of its own settings",
    (_name, spec) => {
      const set = renderedSet('defaults');
      const env = resolveEnv(set, workload(set, spec.name)).values;
      const names = ownEnvNames(spec).filter((name) => effectiveEnv(spec, {}, name) !== undefined);
      expect(names.length).toBeGreaterThan(0);
      expect(names.map((name) => ({ name, chart: effectiveEnv(spec, env, name) }))).toEqual(
        names.map((name) => ({ name, chart: effectiveEnv(spec, {}, name) })),
      );
    },
  );

  it('defaults: each grace period covers preStop + the forced-exit deadline with room to spare', () => {
    const set = renderedSet('defaults');
    const rows = SERVICES.map((spec) => {
      const w = workload(set, spec.name);
      const env = resolveEnv(set, w).values;
      return {
        service: spec.name,
        grace: w.pod.terminationGracePeriodSeconds,
        preStop: preStopSeconds(w.container),
        shutdownS: Number(env[spec.shutdownTimeoutEnv]) / 1000,
        forcedExitS: forcedExitMs(spec, env) / 1000,
      };
    });
    // The shipped services, exactly; a service added with the generator only has to fit.
    expect(rows.filter((r) => SHIPPED_SERVICES.includes(r.service))).toEqual([
      { service: 'ingest-api', grace: 30, preStop: 5, shutdownS: 15, forcedExitS: 15 },
      { service: 'ordering-worker', grace: 30, preStop: 0, shutdownS: 20, forcedExitS: 20 },
      // The gateway's forced exit comes 10 s (SHUTDOWN_MARGIN_MS) after its drain timeout.
      { service: 'edge-gateway', grace: 60, preStop: 10, shutdownS: 30, forcedExitS: 40 },
    ]);
    for (const row of rows) expect(row.grace ?? 0).toBeGreaterThan(row.preStop + row.forcedExitS);
  });

  it('gateway-drain-edge: the gateway settings at the edge of what it accepts render and start', () => {
    const set = renderedSet('gateway-drain-edge');
    const w = workload(set, 'edge-gateway');
    const env = resolveEnv(set, w).values;
    expect(env).toMatchObject({ GATEWAY_DRAIN_SPREAD_MS: '28999', GATEWAY_DRAIN_TIMEOUT_MS: '30000' });
    expect(startupProblems(service('edge-gateway'), env)).toEqual([]);
    // One ms less timeout (or 1 ms more spread) and the gateway refuses to start.
    expect(startupProblems(service('edge-gateway'), { ...env, GATEWAY_DRAIN_SPREAD_MS: '29000' })).toEqual([
      expect.stringContaining('GATEWAY_DRAIN_TIMEOUT_MS: must exceed GATEWAY_DRAIN_SPREAD_MS + 1000 ms'),
    ]);
    // One second less grace and Kubernetes would kill the pod at the gateway's own forced exit.
    expect(w.pod.terminationGracePeriodSeconds).toBe(
      preStopSeconds(w.container) + forcedExitMs(service('edge-gateway'), env) / 1000 + 1,
    );
  });

  it('defaults render the same objects at the oldest supported Kubernetes (Chart.yaml kubeVersion)', () => {
    const kinds = (name: string) =>
      renderedSet(name)
        .objects.map((o) => `${o.kind}/${o.metadata.name}`)
        .sort();
    expect(renderedSet('defaults-kube-min').kubeVersion).toBe('1.25.0');
    expect(kinds('defaults-kube-min')).toEqual(kinds('defaults'));
  });

  it('hpa: autoscalers for ingest-api and edge-gateway only, which then leave replicas to them', () => {
    const set = renderedSet('hpa');
    expect(
      find(set, 'HorizontalPodAutoscaler')
        .map((h) => h.metadata.labels?.[COMPONENT_LABEL])
        .sort(),
    ).toEqual(['edge-gateway', 'ingest-api']);
    expect(workload(set, 'ingest-api').replicas).toBeUndefined();
    expect(workload(set, 'edge-gateway').replicas).toBeUndefined();
    expect(workload(set, 'ordering-worker').replicas).toBe(2);
    const ingest = only(set, 'HorizontalPodAutoscaler', `${fullname}-ingest-api`).spec as {
      minReplicas: number;
      maxReplicas: number;
      metrics: unknown[];
    };
    expect(ingest).toMatchObject({ minReplicas: 2, maxReplicas: 8 });
    expect(ingest.metrics).toHaveLength(2);
  });

  it('service-monitor: one ServiceMonitor per component, with the extra labels', () => {
    const monitors = find(renderedSet('service-monitor'), 'ServiceMonitor');
    expect(monitors).toHaveLength(SERVICES.length);
    for (const m of monitors) expect(m.metadata.labels?.['release']).toBe('kube-prometheus-stack');
  });

  it('service-monitor-no-api: asked for, but not rendered where the cluster lacks monitoring.coreos.com/v1', () => {
    const set = renderedSet('service-monitor-no-api');
    expect(find(set, 'ServiceMonitor')).toHaveLength(0);
    expect(set.notes).toContain('no ServiceMonitor was created');
  });

  it('network-policy: per component, the public port open to all, the management port to monitoring only', () => {
    const set = renderedSet('network-policy');
    const policies = find(set, 'NetworkPolicy');
    expect(policies).toHaveLength(SERVICES.length);
    for (const policy of policies) {
      expect(policy.spec).toMatchObject({
        policyTypes: ['Ingress'],
        ingress: [
          { ports: [{ port: 'http', protocol: 'TCP' }] },
          {
            ports: [{ port: 'management', protocol: 'TCP' }],
            from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
          },
        ],
      });
      // No `from` on the public rule: open to everyone.
      expect((policy.spec as { ingress: { from?: unknown }[] }).ingress[0].from).toBeUndefined();
    }
  });

  it('production: the origins and gateway limits reach both services', () => {
    const set = renderedSet('production');
    for (const name of ['ingest-api', 'edge-gateway'] as const) {
      expect(resolveEnv(set, workload(set, name)).values['SEQCAST_ALLOWED_ORIGINS']).toBe(
        'https://app.example.com,https://admin.example.com',
      );
    }
    expect(resolveEnv(set, workload(set, 'edge-gateway')).values).toMatchObject({
      GATEWAY_MAX_CONNECTIONS_PER_PRINCIPAL: '20',
      GATEWAY_CLIENT_IP_HEADER: 'X-Forwarded-For',
    });
  });

  it('existing-secrets: the chart stores no Secret and reads the named ones', () => {
    const set = renderedSet('existing-secrets');
    expect(find(set, 'Secret')).toHaveLength(0);
    const env = workload(set, 'edge-gateway').container.env ?? [];
    expect(env.find((e) => e.name === 'SEQCAST_JWT_SECRET')?.valueFrom?.secretKeyRef).toEqual({
      name: 'seqcast-auth',
      key: 'jwt-secret',
    });
    expect(env.find((e) => e.name === 'DATABASE_URL')?.valueFrom?.secretKeyRef).toEqual({
      name: 'seqcast-db',
      key: 'url',
    });
  });

  it('ingress: both HTTP surfaces, routed to their Services, the gateway with WebSocket-friendly timeouts', () => {
    const set = renderedSet('ingress');
    const ingresses = find(set, 'Ingress');
    expect(ingresses).toHaveLength(2);
    for (const ingress of ingresses) {
      const spec = ingress.spec as {
        ingressClassName: string;
        rules: { http: { paths: { backend: { service: { name: string; port: { name: string } } } }[] } }[];
      };
      expect(spec.ingressClassName).toBe('nginx');
      for (const path of spec.rules.flatMap((r) => r.http.paths)) {
        const svc = only(set, 'Service', path.backend.service.name);
        expect((svc.spec as { ports: { name: string }[] }).ports.map((p) => p.name)).toContain(
          path.backend.service.port.name,
        );
      }
    }
    const gateway = only(set, 'Ingress', `${fullname}-edge-gateway`);
    expect(gateway.metadata.annotations?.['nginx.ingress.kubernetes.io/proxy-read-timeout']).toBe('3600');
  });

  it('production: worker replicas capped at the partition count, with a warning; registry, labels and extra env applied', () => {
    const set = renderedSet('production');
    expect(workload(set, 'ordering-worker').replicas).toBe(3);
    expect(set.notes).toContain('services.ordering-worker.replicaCount (5) exceeds kafka.partitions (3); running 3');
    expect(workload(set, 'ingest-api').container.image).toBe('registry.example.com/platform/seqcast/ingest-api:0.1.0');
    for (const object of set.objects) expect(object.metadata.labels?.['team']).toBe('messaging');
    const gateway = workload(set, 'edge-gateway');
    expect(resolveEnv(set, gateway).values).toMatchObject({
      KAFKA_CLIENT_ID: 'seqcast-edge-gateway',
      LOG_LEVEL: 'debug',
    });
    expect(gateway.pod.terminationGracePeriodSeconds).toBe(90);
    expect(resolveEnv(set, gateway).values).toMatchObject({
      GATEWAY_DRAIN_TIMEOUT_MS: '45000',
      GATEWAY_DRAIN_SPREAD_MS: '20000',
      GATEWAY_ROOM_CACHE_MESSAGES: '0',
      GATEWAY_MAX_BACKLOG_BYTES: '16777216',
    });
    const worker = workload(set, 'ordering-worker');
    expect(worker.pod.terminationGracePeriodSeconds).toBe(45);
    expect(resolveEnv(set, worker).values).toMatchObject({
      WORKER_SHUTDOWN_TIMEOUT_MS: '40000',
      HISTORY_RETENTION_HOURS: '720',
    });
    expect(resolveEnv(set, workload(set, 'ingest-api')).values['INGEST_SHUTDOWN_TIMEOUT_MS']).toBe('20000');
    const secret = only(set, 'Secret', fullname);
    expect(Buffer.from(secret.data?.['SEQCAST_JWT_SECRET'] ?? '', 'base64').toString()).toBe(
      'an-explicit-secret-of-at-least-32-characters',
    );
  });
});
