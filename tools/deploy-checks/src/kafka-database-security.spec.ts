/**
 * Kafka and PostgreSQL security as the chart renders it (issue 14): topic durability settings, TLS
 * material mounted read-only from the named Secrets with the env vars pointing at it, SASL
 * credentials only as secretKeyRefs, and the bitnami-style extra volumes, mounts and env Secrets,
 * global and per service. And, for every values set, no secret reaches a plain env value or a
 * ConfigMap.
 */
import { type RenderedSet, find, renderedSet, renderedSets } from './support/rendered-chart';
import { SERVICES } from './support/services';
import { type Workload, resolveEnv, workloads } from './support/workloads';

const KAFKA_TLS_DIR = '/etc/seqcast/kafka-tls';
const DB_TLS_DIR = '/etc/seqcast/db-tls';
/** Variables that carry secrets, or name where the chart keeps one. */
const SECRET_ENV = ['DATABASE_URL', 'SEQCAST_JWT_SECRET', 'KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'];

const mount = (w: Workload, path: string) => w.container.volumeMounts?.find((m) => m.mountPath === path);
const volume = (w: Workload, name: string) => w.pod.volumes?.find((v) => v.name === name);
const envVar = (w: Workload, name: string) => w.container.env?.find((e) => e.name === name);

describe('defaults', () => {
  const set = renderedSet('defaults');

  it.each(workloads(set).map((w) => [w.component, w] as const))(
    '%s: topics at replication 3 / min.insync 2, plaintext Kafka without SASL, PostgreSQL without TLS, nothing mounted',
    (_name, w) => {
      expect(resolveEnv(set, w).values).toMatchObject({
        SEQCAST_REPLICATION_FACTOR: '3',
        SEQCAST_MIN_INSYNC_REPLICAS: '2',
        KAFKA_SSL: 'false',
        KAFKA_SSL_CA_FILE: '',
        KAFKA_SSL_CERT_FILE: '',
        KAFKA_SSL_KEY_FILE: '',
        KAFKA_SSL_REJECT_UNAUTHORIZED: 'true',
        KAFKA_SASL_MECHANISM: '',
        DATABASE_SSL: 'disable',
        DATABASE_SSL_CA_FILE: '',
      });
      expect(envVar(w, 'KAFKA_SASL_USERNAME')).toBeUndefined();
      expect(envVar(w, 'KAFKA_SASL_PASSWORD')).toBeUndefined();
      expect(w.pod.volumes?.map((v) => v.name)).toEqual(['tmp']);
      expect(w.container.envFrom).toHaveLength(1);
    },
  );
});

it('the security values sets deploy every service', () => {
  for (const name of ['kafka-security', 'kafka-managed'])
    expect(
      workloads(renderedSet(name))
        .map((w) => w.component)
        .sort(),
    ).toEqual(SERVICES.map((s) => s.name).sort());
});

describe('kafka-security: mutual TLS, SCRAM from a Secret, verified PostgreSQL TLS, extra volumes and env Secrets', () => {
  const set = renderedSet('kafka-security');

  it.each(workloads(set).map((w) => [w.component, w] as const))(
    '%s: mounts the Kafka TLS Secret read-only and points KAFKA_SSL_* at it',
    (_name, w) => {
      expect(mount(w, KAFKA_TLS_DIR)).toEqual({ name: 'kafka-tls', mountPath: KAFKA_TLS_DIR, readOnly: true });
      expect(volume(w, 'kafka-tls')?.secret?.secretName).toBe('kafka-client-tls');
      expect(resolveEnv(set, w).values).toMatchObject({
        KAFKA_SSL: 'true',
        KAFKA_SSL_CA_FILE: `${KAFKA_TLS_DIR}/ca.crt`,
        KAFKA_SSL_CERT_FILE: `${KAFKA_TLS_DIR}/tls.crt`,
        KAFKA_SSL_KEY_FILE: `${KAFKA_TLS_DIR}/tls.key`,
        KAFKA_SSL_REJECT_UNAUTHORIZED: 'true',
        SEQCAST_REPLICATION_FACTOR: '3',
        SEQCAST_MIN_INSYNC_REPLICAS: '2',
      });
    },
  );

  it.each(workloads(set).map((w) => [w.component, w] as const))(
    '%s: takes the SASL username and password from the named Secret, never as values',
    (_name, w) => {
      expect(resolveEnv(set, w).values['KAFKA_SASL_MECHANISM']).toBe('scram-sha-512');
      expect(envVar(w, 'KAFKA_SASL_USERNAME')).toEqual({
        name: 'KAFKA_SASL_USERNAME',
        valueFrom: { secretKeyRef: { name: 'kafka-scram-user', key: 'user' } },
      });
      expect(envVar(w, 'KAFKA_SASL_PASSWORD')).toEqual({
        name: 'KAFKA_SASL_PASSWORD',
        valueFrom: { secretKeyRef: { name: 'kafka-scram-user', key: 'pass' } },
      });
    },
  );

  it.each(workloads(set).map((w) => [w.component, w] as const))(
    '%s: mounts only ca.crt of the PostgreSQL CA Secret, read-only, for DATABASE_SSL=verify-full',
    (_name, w) => {
      expect(mount(w, DB_TLS_DIR)).toEqual({ name: 'db-tls', mountPath: DB_TLS_DIR, readOnly: true });
      expect(volume(w, 'db-tls')?.secret).toEqual({ secretName: 'pg-ca', items: [{ key: 'ca.crt', path: 'ca.crt' }] });
      expect(resolveEnv(set, w).values).toMatchObject({
        DATABASE_SSL: 'verify-full',
        DATABASE_SSL_CA_FILE: `${DB_TLS_DIR}/ca.crt`,
      });
    },
  );

  it('adds the global extra volume, mount and env Secret to every service, and a service its own after them', () => {
    for (const w of workloads(set)) {
      const own = w.component === 'edge-gateway';
      expect(volume(w, 'company-ca')).toEqual({ name: 'company-ca', configMap: { name: 'company-ca-bundle' } });
      expect(mount(w, '/etc/ssl/company')).toEqual({
        name: 'company-ca',
        mountPath: '/etc/ssl/company',
        readOnly: true,
      });
      expect(w.container.envFrom?.map((f) => f.secretRef?.name ?? f.configMapRef?.name)).toEqual([
        w.object.metadata.name,
        'seqcast-extra-env',
        ...(own ? ['edge-gateway-extra-env'] : []),
      ]);
      expect(volume(w, 'geoip') !== undefined).toBe(own);
      expect(mount(w, '/var/lib/geoip') !== undefined).toBe(own);
      expect(resolveEnv(set, w).externalEnvFromSecrets).toEqual([
        'seqcast-extra-env',
        ...(own ? ['edge-gateway-extra-env'] : []),
      ]);
    }
  });
});

describe('kafka-managed: TLS against the public roots and SASL PLAIN', () => {
  const set = renderedSet('kafka-managed');

  it.each(workloads(set).map((w) => [w.component, w] as const))(
    '%s: TLS on with no CA file and nothing mounted; PLAIN credentials from their Secret',
    (_name, w) => {
      expect(resolveEnv(set, w).values).toMatchObject({
        KAFKA_SSL: 'true',
        KAFKA_SSL_CA_FILE: '',
        KAFKA_SSL_CERT_FILE: '',
        KAFKA_SASL_MECHANISM: 'plain',
        DATABASE_SSL: 'require',
        DATABASE_SSL_CA_FILE: '',
      });
      expect(w.pod.volumes?.map((v) => v.name)).toEqual(['tmp']);
      expect(envVar(w, 'KAFKA_SASL_PASSWORD')?.valueFrom?.secretKeyRef).toEqual({
        name: 'confluent-api-key',
        key: 'password',
      });
    },
  );
});

describe.each(renderedSets().map((s) => [s.name, s] as const))('values set "%s"', (_name, set: RenderedSet) => {
  it('puts no secret into a plain env value or a ConfigMap', () => {
    for (const w of workloads(set)) {
      const literal = (w.container.env ?? []).filter((e) => SECRET_ENV.includes(e.name) && !e.valueFrom?.secretKeyRef);
      expect({ service: w.component, literal }).toEqual({ service: w.component, literal: [] });
    }
    for (const cm of find(set, 'ConfigMap')) {
      const keys = Object.keys(cm.data ?? {}).filter(
        (k) => SECRET_ENV.includes(k) || /PASSWORD|SECRET/.test(k.replace(/_FILE$/, '')),
      );
      expect({ configMap: cm.metadata.name, keys }).toEqual({ configMap: cm.metadata.name, keys: [] });
    }
  });

  it('mounts every TLS Secret read-only', () => {
    for (const w of workloads(set)) {
      for (const path of [KAFKA_TLS_DIR, DB_TLS_DIR]) {
        const m = mount(w, path);
        if (m) expect(m.readOnly).toBe(true);
      }
    }
  });

  it('keeps the NetworkPolicy per service, one for each Deployment when enabled', () => {
    const policies = find(set, 'NetworkPolicy').map((p) => p.metadata.name);
    if (policies.length > 0)
      expect(policies.sort()).toEqual(
        workloads(set)
          .map((w) => w.object.metadata.name)
          .sort(),
      );
  });
});
