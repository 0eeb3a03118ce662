/**
 * The Grafana dashboard in docs/grafana queries only metrics that exist: every `seqcast_*` name is
 * defined (as a string literal) by some lib's production code, and every process metric is one of
 * prom-client's defaults. Read from the files, not imported: this util lib may not depend on the
 * feature libs that define the metrics.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { collectDefaultMetrics, Registry } from 'prom-client';

const ROOT = resolve(__dirname, '../../../../..');
const DASHBOARD = join(ROOT, 'docs/grafana/seqcast-dashboard.json');

interface Panel {
  type: string;
  title: string;
  targets?: { expr: string }[];
  datasource?: { uid?: string };
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return entry === 'node_modules' ? [] : sourceFiles(path);
    return path.endsWith('.ts') && !/\.(int\.)?spec\.ts$|\.int\.ts$/.test(path) ? [path] : [];
  });
}

/** `seqcast_*` names quoted in production code: metric definitions. */
function definedSeqcastMetrics(): Set<string> {
  const names = new Set<string>();
  for (const file of sourceFiles(join(ROOT, 'libs'))) {
    for (const match of readFileSync(file, 'utf8').matchAll(/['"`](seqcast_[a-z0-9_]+)['"`]/g)) names.add(match[1]);
  }
  return names;
}

function defaultProcessMetrics(): Set<string> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return new Set(registry.getMetricsAsArray().map((metric) => metric.name));
}

/** Metric names in a PromQL expression, histogram series suffixes folded into the metric. */
function metricsIn(expr: string): string[] {
  const names = expr.match(/\b(?:seqcast|process|nodejs)_[a-z0-9_]+/g) ?? [];
  return names.map((name) => name.replace(/_(bucket|sum|count)$/, ''));
}

describe('docs/grafana/seqcast-dashboard.json', () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
    panels: Panel[];
    templating: { list: { name: string; type: string; query: string }[] };
  };
  const queryPanels = dashboard.panels.filter((panel) => panel.type !== 'row');

  it('takes its Prometheus datasource from a variable', () => {
    expect(dashboard.templating.list).toContainEqual(
      expect.objectContaining({ name: 'datasource', type: 'datasource', query: 'prometheus' }),
    );
    for (const panel of queryPanels) expect({ panel: panel.title, uid: panel.datasource?.uid }).toEqual({ panel: panel.title, uid: '${datasource}' });
  });

  it('queries only metrics the services register', () => {
    const known = new Set([...definedSeqcastMetrics(), ...defaultProcessMetrics()]);
    const queried = queryPanels.flatMap((panel) => (panel.targets ?? []).flatMap((t) => metricsIn(t.expr)));
    expect(queried.length).toBeGreaterThan(20);
    const unknown = [...new Set(queried)].filter((name) => !known.has(name));
    expect(unknown).toEqual([]);
  });

  it('shows what operators asked for: connections, churn, reconnects, latency, drops, lag, ingest', () => {
    const exprs = queryPanels.flatMap((panel) => (panel.targets ?? []).map((t) => t.expr)).join('\n');
    for (const needed of [
      'seqcast_gateway_active_connections',
      'seqcast_gateway_disconnects_total',
      'seqcast_gateway_resumes_total',
      'histogram_quantile(0.99, sum by (le) (rate(seqcast_gateway_delivery_latency_seconds_bucket',
      'histogram_quantile(0.5, sum by (le) (rate(seqcast_gateway_delivery_latency_seconds_bucket',
      'seqcast_gateway_dropped_deliveries_total',
      'seqcast_gateway_slow_consumer_kicks_total',
      'max by (partition) (seqcast_worker_consumer_lag_messages)',
      'seqcast_ingest_accepted_messages_total',
      'seqcast_ingest_rejected_requests_total',
      'seqcast_ingest_produce_latency_seconds_bucket',
    ]) {
      expect(exprs).toContain(needed);
    }
  });
});
