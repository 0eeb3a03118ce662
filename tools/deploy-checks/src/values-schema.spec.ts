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
    'edgeGateway.terminationGracePeriodSeconds (50) must be greater than preStopSleepSeconds + drainTimeoutMs + the forced-exit margin',
  );
  expect(byName('worker-grace-shorter-than-shutdown')).toContain(
    'orderingWorker.terminationGracePeriodSeconds (30) must be greater than preStopSleepSeconds + shutdownTimeoutMs',
  );
  for (const name of ['drain-timeout-not-above-spread-plus-grace', 'drain-timeout-equals-spread-plus-grace'])
    expect(byName(name)).toContain(
      'edgeGateway.drainTimeoutMs (30000) must be greater than edgeGateway.drainSpreadMs + 1000 ms disconnect grace',
    );
});

describe('the gateway itself agrees with the template guards on the bad values files', () => {
  const gateway = service('edge-gateway');
  const valuesYaml = parse(readFileSync(join(workspaceRoot, 'helm/seqcast/values.yaml'), 'utf8')) as {
    edgeGateway: Record<string, number>;
  };
  /** edgeGateway values of a bad values file, over the chart defaults. */
  const gatewayValues = (file: string) => ({
    ...valuesYaml.edgeGateway,
    ...(parse(readFileSync(join(invalidDir, file), 'utf8')) as { edgeGateway: Record<string, number> }).edgeGateway,
  });
  /** The gateway's environment as the defaults render it, with the drain values of `v`. */
  const gatewayEnv = (v: Record<string, number>) => {
    const set = renderedSet('defaults');
    return {
      ...resolveEnv(set, workload(set, 'edge-gateway')).values,
      GATEWAY_DRAIN_SPREAD_MS: String(v['drainSpreadMs']),
      GATEWAY_DRAIN_TIMEOUT_MS: String(v['drainTimeoutMs']),
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
    expect(v['terminationGracePeriodSeconds']).toBeGreaterThan(v['preStopSleepSeconds'] + v['drainTimeoutMs'] / 1000);
    expect(v['terminationGracePeriodSeconds']).toBe(v['preStopSleepSeconds'] + forcedExitS);
  });
});

/** Numeric values rendered into a service's environment: values path, service, env var. */
const NUMERIC_ENV_VALUES: readonly (readonly [string, ServiceName, string])[] = [
  ['kafka.partitions', 'ingest-api', 'SEQCAST_PARTITIONS'],
  ['kafka.replicationFactor', 'ingest-api', 'SEQCAST_REPLICATION_FACTOR'],
  ['ingestApi.maxBodyBytes', 'ingest-api', 'INGEST_MAX_BODY_BYTES'],
  ['ingestApi.shutdownTimeoutMs', 'ingest-api', 'INGEST_SHUTDOWN_TIMEOUT_MS'],
  ['orderingWorker.partitionsConcurrency', 'ordering-worker', 'WORKER_PARTITIONS_CONCURRENCY'],
  ['orderingWorker.shutdownTimeoutMs', 'ordering-worker', 'WORKER_SHUTDOWN_TIMEOUT_MS'],
  ['orderingWorker.historyRetentionHours', 'ordering-worker', 'HISTORY_RETENTION_HOURS'],
  ['edgeGateway.pingIntervalMs', 'edge-gateway', 'GATEWAY_PING_INTERVAL_MS'],
  ['edgeGateway.pingTimeoutMs', 'edge-gateway', 'GATEWAY_PING_TIMEOUT_MS'],
  ['edgeGateway.ackTimeoutMs', 'edge-gateway', 'GATEWAY_ACK_TIMEOUT_MS'],
  ['edgeGateway.maxBacklogMessages', 'edge-gateway', 'GATEWAY_MAX_BACKLOG_MESSAGES'],
  ['edgeGateway.maxBacklogBytes', 'edge-gateway', 'GATEWAY_MAX_BACKLOG_BYTES'],
  ['edgeGateway.roomCacheMessages', 'edge-gateway', 'GATEWAY_ROOM_CACHE_MESSAGES'],
  ['edgeGateway.roomCacheBytes', 'edge-gateway', 'GATEWAY_ROOM_CACHE_BYTES'],
  ['edgeGateway.drainSpreadMs', 'edge-gateway', 'GATEWAY_DRAIN_SPREAD_MS'],
  ['edgeGateway.drainTimeoutMs', 'edge-gateway', 'GATEWAY_DRAIN_TIMEOUT_MS'],
  ['edgeGateway.sseHeartbeatMs', 'edge-gateway', 'GATEWAY_SSE_HEARTBEAT_MS'],
  ['edgeGateway.sseRetryMs', 'edge-gateway', 'GATEWAY_SSE_RETRY_MS'],
  ['edgeGateway.presenceTtlMs', 'edge-gateway', 'GATEWAY_PRESENCE_TTL_MS'],
  ['edgeGateway.presencePollMs', 'edge-gateway', 'GATEWAY_PRESENCE_POLL_MS'],
  ['edgeGateway.presenceMaxMembers', 'edge-gateway', 'GATEWAY_PRESENCE_MAX_MEMBERS'],
];

describe.each(NUMERIC_ENV_VALUES.map(([path, svc, env]) => [path, env, svc] as const))(
  '%s (%s)',
  (path, envName, serviceName) => {
    const [group, key] = path.split('.');
    const schema = JSON.parse(readFileSync(join(workspaceRoot, 'helm/seqcast/values.schema.json'), 'utf8')) as {
      properties: Record<string, { properties: Record<string, { type?: string; minimum?: number; maximum?: number }> }>;
    };
    const values = parse(readFileSync(join(workspaceRoot, 'helm/seqcast/values.yaml'), 'utf8')) as Record<
      string,
      Record<string, unknown>
    >;
    const field = service(serviceName).envShape[envName];
    const accepts = (n: number) => field.safeParse(String(n)).success;

    it('is rendered into the env var as values.yaml sets it', () => {
      const set = renderedSet('defaults');
      expect(resolveEnv(set, workload(set, serviceName)).values[envName]).toBe(String(values[group][key]));
    });

    it("takes exactly the range the service's config schema accepts", () => {
      const { type, minimum, maximum } = schema.properties[group].properties[key];
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
