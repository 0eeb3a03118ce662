import { writeFileSync } from 'node:fs';
import type { CdfPoint } from './stats';

export interface CdfSeries {
  /** Legend label, e.g. "seqcast 1,000 msg/s" or "raw socket.io". */
  name: string;
  points: CdfPoint[];
}

/**
 * A Vega-Lite spec: one line per series, latency on a log axis against the fraction of messages
 * delivered within it — tails and same-run baselines compare at a glance.
 */
export function cdfSpec(title: string, series: CdfSeries[]): Record<string, unknown> {
  const values = series.flatMap((s) => s.points.map((p) => ({ series: s.name, ms: Math.max(0.01, p.ms), percentile: p.fraction * 100 })));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 560,
    height: 300,
    background: 'white',
    data: { values },
    mark: { type: 'line', point: true, interpolate: 'monotone' },
    encoding: {
      x: { field: 'ms', type: 'quantitative', scale: { type: 'log' }, title: 'latency (ms, log scale)' },
      y: { field: 'percentile', type: 'quantitative', title: 'percentile', scale: { domain: [0, 100] } },
      color: { field: 'series', type: 'nominal', title: null },
      tooltip: [{ field: 'series' }, { field: 'percentile' }, { field: 'ms' }],
    },
  };
}

export interface Bar {
  group: string;
  label: string;
  value: number;
}

/** Grouped bars (e.g. KB per idle socket, Seqcast beside its baseline). */
export function barSpec(title: string, unit: string, bars: Bar[]): Record<string, unknown> {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 420,
    height: 240,
    background: 'white',
    data: { values: bars },
    mark: 'bar',
    encoding: {
      x: { field: 'group', type: 'nominal', title: null },
      xOffset: { field: 'label' },
      y: { field: 'value', type: 'quantitative', title: unit },
      color: { field: 'label', type: 'nominal', title: null },
    },
  };
}

/**
 * Both packages ship ES modules with top-level await, which require() cannot load; a real dynamic
 * import (not the require() TypeScript would compile `import()` into for CommonJS) can.
 */
const importEsm = new Function('specifier', 'return import(specifier)') as <T>(specifier: string) => Promise<T>;

/** Renders a Vega-Lite spec to SVG headless: Vega's SVG renderer needs neither a browser nor canvas. */
export async function renderSvg(spec: Record<string, unknown>): Promise<string> {
  const vega = await importEsm<typeof import('vega')>('vega');
  const vegaLite = await importEsm<typeof import('vega-lite')>('vega-lite');
  const compiled = vegaLite.compile(spec as never).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export async function writeChart(path: string, title: string, chart: { series: CdfSeries[]; bars?: { unit: string; values: Bar[] } }): Promise<void> {
  const spec = chart.bars ? barSpec(title, chart.bars.unit, chart.bars.values) : cdfSpec(title, chart.series.filter((s) => s.points.length > 0));
  writeFileSync(path, await renderSvg(spec));
}
