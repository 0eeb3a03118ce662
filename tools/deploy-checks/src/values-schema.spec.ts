/**
 * values.schema.json (and the chart's cross-field guards) reject bad values: each file in
 * tools/helm/invalid-values was fed to the real Helm engine and must have failed with the error its
 * "# expect:" line names, before anything was rendered. The numeric values that become a service's
 * env var take exactly the range that service's config schema accepts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { rejectedSets, renderedSet, workspaceRoot } from './support/rendered-chart';
import { type ServiceName, forcedExitMs, service, startupProblems } from './support/services';
import { resolveEnv, workload } from './support/workloads';

const invalidDir = join(workspaceRoot, 'tools/helm/invalid-values');
const files = readdirSync(invalidDir).filter((f) => f.endsWith('.yaml'));
const SCHEMA_ERROR = "values don't meet the specifications of the schema(s)";

it('every bad values file was tried', () => {
  expect(
    rejectedSets()
      .map((r) => `${r.name}.yaml`)
      .sort(),
  ).toEqual(files.sort());
});

it.each(rejectedSets().map((r) => [r.name, r] as const))('%s is rejected with the expected error', (_name, result) => {
  expect(result.rejected).toBe(true);
  expect(result.message).toContain(result.expected);
});

it('rejects wrong types, out-of-range numbers, unknown enum values and misspelt keys through the schema', () => {
  const bySchema = rejectedSets().filter((r) => r.message.includes(SCHEMA_ERROR));
  const expected = bySchema.map((r) => r.expected).join('\n');
  expect(expected).toContain('/kafka/brokers'); // a string where a list belongs
  expect(expected).toContain('/kafka/partitions'); // below the minimum
  expect(expected).toContain('/logLevel'); // not one of the levels the services accept
  expect(expected).toContain("additional properties 'replicas' not allowed"); // a typo is not silently ignored
});

it('guards what a schema cannot express (grace period vs. preStop + forced exit, drain timeout vs. spread) in the templates', () => {
  const byName = (name: string) => rejectedSets().find((r) => r.name === name)?.message ?? '';
  for (const name of [
    'grace-shorter-than-drain',
    'worker-grace-shorter-than-shutdown',
    'drain-timeout-not-above-spread-plus-grace',
    'drain-timeout-equals-spread-plus-grace',
  ])
    expect(byName(name)).not.toContain(SCHEMA_ERROR);
  expect(byName('grace-shorter-than-drain')).toContain(
    'services.edge-gateway.terminationGracePeriodSeconds (50) must be greater than preStopSleepSeconds + GATEWAY_DRAIN_TIMEOUT_MS + the forced-exit margin',
  );
  expect(byName('worker-grace-shorter-than-shutdown')).toContain(
    'services.ordering-worker.terminationGracePeriodSeconds (30) must be greater than preStopSleepSeconds + WORKER_SHUTDOWN_TIMEOUT_MS',
  );
  for (const name of ['drain-timeout-not-above-spread-plus-grace', 'drain-timeout-equals-spread-plus-grace'])
    expect(byName(name)).toContain(
      'services.edge-gateway.env.GATEWAY_DRAIN_TIMEOUT_MS (30000) must be greater than GATEWAY_DRAIN_SPREAD_MS + 1000 ms disconnect grace',
    );
});

describe('the gateway itself agrees with the template guards on the bad values files', () => {
  const gateway = service('edge-gateway');
  interface GatewayEntry {
    preStopSleepSeconds: number;
    terminationGracePeriodSeconds: number;
    env: Record<string, number>;
  }
  const gatewayEntry = (file: string) =>
    (parse(readFileSync(file, 'utf8')) as { services: Record<string, Partial<GatewayEntry>> }).services['edge-gateway'];
  const chartGateway = gatewayEntry(join(workspaceRoot, 'helm/seqcast/values.yaml'));
  /** The gateway's entry of a bad values file, over the chart's own entry (as Helm merges them). */
  const gatewayValues = (file: string) => {
    const bad = gatewayEntry(join(invalidDir, file));
    return {
      preStopSleepSeconds: bad.preStopSleepSeconds ?? chartGateway.preStopSleepSeconds ?? 0,
      terminationGracePeriodSeconds:
        bad.terminationGracePeriodSeconds ?? chartGateway.terminationGracePeriodSeconds ?? 0,
      env: { ...chartGateway.env, ...bad.env },
    };
  };
  /** The gateway's environment as the defaults render it, with the drain values of `v`. */
  const gatewayEnv = (v: GatewayEntry) => {
    const set = renderedSet('defaults');
    return {
      ...resolveEnv(set, workload(set, 'edge-gateway')).values,
      GATEWAY_DRAIN_SPREAD_MS: String(v.env['GATEWAY_DRAIN_SPREAD_MS']),
      GATEWAY_DRAIN_TIMEOUT_MS: String(v.env['GATEWAY_DRAIN_TIMEOUT_MS']),
    };
  };

  it.each(['drain-timeout-not-above-spread-plus-grace.yaml', 'drain-timeout-equals-spread-plus-grace.yaml'])(
    '%s: the gateway would refuse to start',
    (file) => {
      expect(startupProblems(gateway, gatewayEnv(gatewayValues(file)))).toEqual([
        expect.stringContaining('GATEWAY_DRAIN_TIMEOUT_MS: must exceed GATEWAY_DRAIN_SPREAD_MS + 1000 ms'),
      ]);
    },
  );

  it('grace-shorter-than-drain.yaml: Kubernetes would kill the gateway no earlier than its own forced exit', () => {
    const v = gatewayValues('grace-shorter-than-drain.yaml');
    const env = gatewayEnv(v);
    expect(startupProblems(gateway, env)).toEqual([]);
    const forcedExitS = Math.ceil(forcedExitMs(gateway, env) / 1000);
    // Enough for preStop + the drain timeout alone, not for the forced exit that follows it.
    expect(v.terminationGracePeriodSeconds).toBeGreaterThan(
      v.preStopSleepSeconds + v.env['GATEWAY_DRAIN_TIMEOUT_MS'] / 1000,
    );
    expect(v.terminationGracePeriodSeconds).toBe(v.preStopSleepSeconds + forcedExitS);
  });
});

/** Numeric values rendered into a service's environment: values path, service, env var. */
const NUMERIC_ENV_VALUES: readonly (readonly [string, ServiceName, string])[] = [
  ['kafka.partitions', 'ingest-api', 'SEQCAST_PARTITIONS'],
  ['kafka.replicationFactor', 'ingest-api', 'SEQCAST_REPLICATION_FACTOR'],
  ...(
    [
      ['ingest-api', 'INGEST_MAX_BODY_BYTES'],
      ['ingest-api', 'INGEST_SHUTDOWN_TIMEOUT_MS'],
      ['ordering-worker', 'WORKER_PARTITIONS_CONCURRENCY'],
      ['ordering-worker', 'WORKER_SHUTDOWN_TIMEOUT_MS'],
      ['ordering-worker', 'HISTORY_RETENTION_HOURS'],
      ['edge-gateway', 'GATEWAY_PING_INTERVAL_MS'],
      ['edge-gateway', 'GATEWAY_PING_TIMEOUT_MS'],
      ['edge-gateway', 'GATEWAY_ACK_TIMEOUT_MS'],
      ['edge-gateway', 'GATEWAY_MAX_BACKLOG_MESSAGES'],
      ['edge-gateway', 'GATEWAY_MAX_BACKLOG_BYTES'],
      ['edge-gateway', 'GATEWAY_ROOM_CACHE_MESSAGES'],
      ['edge-gateway', 'GATEWAY_ROOM_CACHE_BYTES'],
      ['edge-gateway', 'GATEWAY_DRAIN_SPREAD_MS'],
      ['edge-gateway', 'GATEWAY_DRAIN_TIMEOUT_MS'],
      ['edge-gateway', 'GATEWAY_SSE_HEARTBEAT_MS'],
      ['edge-gateway', 'GATEWAY_SSE_RETRY_MS'],
      ['edge-gateway', 'GATEWAY_PRESENCE_TTL_MS'],
      ['edge-gateway', 'GATEWAY_PRESENCE_POLL_MS'],
      ['edge-gateway', 'GATEWAY_PRESENCE_MAX_MEMBERS'],
    ] as const
  ).map(([svc, env]) => [`services.${svc}.env.${env}`, svc, env] as const),
];

interface SchemaNode {
  type?: string | string[];
  minimum?: number;
  maximum?: number;
  properties?: Record<string, SchemaNode>;
  allOf?: SchemaNode[];
}

/** The schema of a values path, following `properties` and the `allOf` parts of a service entry. */
function schemaAt(node: SchemaNode, path: string[]): SchemaNode | undefined {
  if (path.length === 0) return node;
  const [head, ...rest] = path;
  for (const part of [node, ...(node.allOf ?? [])]) {
    const child = part.properties?.[head];
    const found = child && schemaAt(child, rest);
    if (found) return found;
  }
  return undefined;
}

function valueAt(values: unknown, path: string[]): unknown {
  return path.reduce<unknown>((v, key) => (v as Record<string, unknown> | undefined)?.[key], values);
}

describe.each(NUMERIC_ENV_VALUES.map(([path, svc, env]) => [path, env, svc] as const))(
  '%s (%s)',
  (path, envName, serviceName) => {
    const schema = JSON.parse(
      readFileSync(join(workspaceRoot, 'helm/seqcast/values.schema.json'), 'utf8'),
    ) as SchemaNode;
    const values: unknown = parse(readFileSync(join(workspaceRoot, 'helm/seqcast/values.yaml'), 'utf8'));
    const field = service(serviceName).envShape[envName];
    const accepts = (n: number) => field.safeParse(String(n)).success;

    it('is rendered into the env var as values.yaml sets it', () => {
      const set = renderedSet('defaults');
      expect(resolveEnv(set, workload(set, serviceName)).values[envName]).toBe(
        String(valueAt(values, path.split('.'))),
      );
    });

    it("takes exactly the range the service's config schema accepts", () => {
      const { type, minimum, maximum } = schemaAt(schema, path.split('.')) ?? {};
      expect(type).toBe('integer');
      expect(minimum).toBeDefined();
      expect(maximum).toBeDefined();
      const [min, max] = [minimum ?? NaN, maximum ?? NaN];
      expect({ min: accepts(min), belowMin: accepts(min - 1), max: accepts(max), aboveMax: accepts(max + 1) }).toEqual({
        min: true,
        belowMin: false,
        max: true,
        aboveMax: false,
      });
    });
  },
);

it('the schema covers every top-level key of values.yaml and forbids others', () => {
  const schema = JSON.parse(readFileSync(join(workspaceRoot, 'helm/seqcast/values.schema.json'), 'utf8')) as {
    additionalProperties: boolean;
    properties: Record<string, unknown>;
  };
  const topLevel = readFileSync(join(workspaceRoot, 'helm/seqcast/values.yaml'), 'utf8')
    .split('\n')
    .map((line) => /^([A-Za-z][A-Za-z0-9]*):/.exec(line)?.[1])
    .filter((key): key is string => key !== undefined);
  expect(schema.additionalProperties).toBe(false);
  expect(topLevel.filter((key) => !(key in schema.properties))).toEqual([]);
});
