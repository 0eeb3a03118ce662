/**
 * Reads what tools/helm/render.sh produced (tmp/helm-rendered): the chart rendered by the real Helm
 * engine for each values set, its test hooks, its NOTES.txt, and the verdicts on the bad values sets.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

export const workspaceRoot = join(__dirname, '../../../..');
const renderedDir = join(workspaceRoot, 'tmp/helm-rendered');

/** A Kubernetes object as rendered; fields are read defensively by the tests. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  [field: string]: unknown;
}

export interface RenderedSet {
  name: string;
  valuesFile: string | null;
  /** A set from tools/helm/extra-sets: it changes what the chart deploys (e.g. adds a service). */
  extra: boolean;
  kubeVersion: string;
  objects: K8sObject[];
  hooks: K8sObject[];
  notes: string;
}

export interface RejectedSet {
  name: string;
  expected: string;
  rejected: boolean;
  message: string;
}

interface Summary {
  release: string;
  namespace: string;
  lint: { failed: boolean; messages: string[] };
  sets: {
    name: string;
    valuesFile: string | null;
    kubeVersion: string;
    file: string;
    hooksFile: string;
    notesFile: string;
    extra?: boolean;
  }[];
  invalid: RejectedSet[];
  problems: string[];
}

function readSummary(): Summary {
  const file = join(renderedDir, 'summary.json');
  if (!existsSync(file)) {
    throw new Error(
      `${file} is missing: render the chart first (bash tools/helm/render.sh, or npx nx test deploy-checks)`,
    );
  }
  return JSON.parse(readFileSync(file, 'utf8')) as Summary;
}

export function parseManifests(text: string, source: string): K8sObject[] {
  return parseAllDocuments(text).flatMap((doc, i) => {
    if (doc.errors.length > 0) throw new Error(`${source}, document ${i + 1}: ${doc.errors[0].message}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) return [];
    if (typeof value !== 'object' || !('kind' in value))
      throw new Error(`${source}, document ${i + 1} is not a Kubernetes object`);
    return [value as K8sObject];
  });
}

let cache: { summary: Summary; sets: RenderedSet[] } | undefined;

function load(): { summary: Summary; sets: RenderedSet[] } {
  if (cache) return cache;
  const summary = readSummary();
  const read = (file: string) => readFileSync(join(renderedDir, file), 'utf8');
  const sets = summary.sets.map((s) => ({
    name: s.name,
    valuesFile: s.valuesFile,
    extra: s.extra === true,
    kubeVersion: s.kubeVersion,
    objects: parseManifests(read(s.file), s.file),
    hooks: parseManifests(read(s.hooksFile), s.hooksFile),
    notes: read(s.notesFile),
  }));
  cache = { summary, sets };
  return cache;
}

/** The default values and the chart's own ci/*-values.yaml sets: they deploy the three services. */
export const renderedSets = (): RenderedSet[] => load().sets.filter((s) => !s.extra);
/** The tools/helm/extra-sets sets, which change what is deployed (a generated fourth service). */
export const extraRenderedSets = (): RenderedSet[] => load().sets.filter((s) => s.extra);
export const renderedSet = (name: string): RenderedSet => {
  const set = load().sets.find((s) => s.name === name);
  if (!set)
    throw new Error(
      `values set "${name}" was not rendered (have: ${load()
        .sets.map((s) => s.name)
        .join(', ')})`,
    );
  return set;
};
export const rejectedSets = (): RejectedSet[] => load().summary.invalid;
export const lintResult = (): Summary['lint'] => load().summary.lint;
export const renderProblems = (): string[] => load().summary.problems;
export const release = (): { name: string; namespace: string } => ({
  name: load().summary.release,
  namespace: load().summary.namespace,
});

export function find(set: RenderedSet, kind: string, name?: string): K8sObject[] {
  return set.objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
}

export function only(set: RenderedSet, kind: string, name: string): K8sObject {
  const found = find(set, kind, name);
  if (found.length !== 1) throw new Error(`${set.name}: expected one ${kind} ${name}, found ${found.length}`);
  return found[0];
}
