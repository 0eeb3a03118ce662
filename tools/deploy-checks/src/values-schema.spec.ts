/**
 * values.schema.json (and the chart's cross-field guards) reject bad values: each file in
 * tools/helm/invalid-values was fed to the real Helm engine and must have failed with the error its
 * "# expect:" line names, before anything was rendered.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rejectedSets, workspaceRoot } from './support/rendered-chart';

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

it('guards what a schema cannot express (grace period vs. preStop + drain) in the templates', () => {
  const grace = rejectedSets().find((r) => r.name === 'grace-shorter-than-drain');
  expect(grace?.message).not.toContain(SCHEMA_ERROR);
  expect(grace?.message).toContain('must be greater than preStopSleepSeconds + drain time');
});

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
