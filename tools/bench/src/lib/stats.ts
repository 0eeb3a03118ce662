import * as hdr from 'hdr-histogram-js';

/** Latency summary in milliseconds, the same fields in every scenario's table and JSON. */
export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

/** One point of a cumulative distribution: `fraction` of samples were at or below `ms`. */
export interface CdfPoint {
  ms: number;
  fraction: number;
}

export type Histogram = hdr.Histogram;

/** Microsecond resolution up to 10 minutes; values are recorded in microseconds, reported in ms. */
export function newHistogram(): Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });
}

export function recordMs(histogram: Histogram, ms: number): void {
  histogram.recordValue(Math.max(1, Math.min(600_000_000, Math.round(ms * 1000))));
}

/** Histograms cross process boundaries (bench client workers) in HDR's compressed base64 form. */
export function encodeHistogram(histogram: Histogram): string {
  return hdr.encodeIntoCompressedBase64(histogram);
}

export function decodeHistogram(encoded: string): Histogram {
  return hdr.decodeFromCompressedBase64(encoded, 32, false);
}

export function mergeHistograms(encoded: string[]): Histogram {
  const total = newHistogram();
  for (const e of encoded) total.add(decodeHistogram(e));
  return total;
}

const round = (ms: number) => Math.round(ms * 100) / 100;

export function summarize(histogram: Histogram): LatencySummary {
  if (histogram.totalCount === 0) return { count: 0, p50: NaN, p90: NaN, p99: NaN, p999: NaN, max: NaN, mean: NaN };
  const at = (q: number) => round(histogram.getValueAtPercentile(q) / 1000);
  return {
    count: histogram.totalCount,
    p50: at(50),
    p90: at(90),
    p99: at(99),
    p999: at(99.9),
    max: round(histogram.maxValue / 1000),
    mean: round(histogram.mean / 1000),
  };
}

/**
 * The CDF at fixed quantiles (log-spaced towards the tail, where latency stories are told), small
 * enough to keep in JSON and to chart.
 */
export function cdf(histogram: Histogram): CdfPoint[] {
  if (histogram.totalCount === 0) return [];
  const quantiles = [0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.99, 100];
  return quantiles.map((q) => ({ ms: round(histogram.getValueAtPercentile(q) / 1000), fraction: q / 100 }));
}

/** Median of repetitions (the figure docs quote); NaN for none. */
export function median(values: number[]): number {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Exact percentile of a small sample (e.g. per-client resume times), nearest-rank. */
export function percentileOf(values: number[], q: number): number {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((q / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** a / b rounded to two decimals; NaN when either side is missing or b is zero. */
export function ratio(a: number, b: number): number {
  if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) return NaN;
  return Math.round((a / b) * 100) / 100;
}

/** A run kept up when it delivered everything within the time it was offered plus a slack. */
export function keptUp(offered: number, delivered: number, offeredSeconds: number, drainedSeconds: number, slackSeconds = 2): boolean {
  return delivered >= offered && drainedSeconds <= offeredSeconds + slackSeconds;
}
