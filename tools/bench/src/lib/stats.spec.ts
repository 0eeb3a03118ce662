import { cdf, decodeHistogram, encodeHistogram, keptUp, median, mergeHistograms, newHistogram, percentileOf, ratio, recordMs, summarize } from './stats';

describe('stats', () => {
  it('summarizes recorded milliseconds', () => {
    const h = newHistogram();
    for (let i = 1; i <= 100; i++) recordMs(h, i);
    const s = summarize(h);
    expect(s.count).toBe(100);
    expect(s.p50).toBeCloseTo(50, 0);
    expect(s.p99).toBeCloseTo(99, 0);
    expect(s.max).toBeCloseTo(100, 0);
  });

  it('keeps sub-millisecond latencies apart', () => {
    const h = newHistogram();
    recordMs(h, 0.25);
    expect(summarize(h).p50).toBeCloseTo(0.25, 2);
  });

  it('reports an empty histogram as missing values, not zeros', () => {
    expect(summarize(newHistogram()).p99).toBeNaN();
    expect(cdf(newHistogram())).toEqual([]);
  });

  it('merges histograms that crossed a process boundary', () => {
    const a = newHistogram();
    const b = newHistogram();
    recordMs(a, 10);
    recordMs(b, 1000);
    const merged = mergeHistograms([encodeHistogram(a), encodeHistogram(b)]);
    expect(merged.totalCount).toBe(2);
    expect(summarize(merged).max).toBeCloseTo(1000, -1);
    expect(decodeHistogram(encodeHistogram(a)).totalCount).toBe(1);
  });

  it('gives a monotone CDF ending at 100 %', () => {
    const h = newHistogram();
    for (let i = 1; i <= 1000; i++) recordMs(h, i);
    const points = cdf(h);
    expect(points[points.length - 1].fraction).toBe(1);
    for (let i = 1; i < points.length; i++) expect(points[i].ms).toBeGreaterThanOrEqual(points[i - 1].ms);
  });

  it('takes medians of repetitions, ignoring missing runs', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(median([NaN, 5])).toBe(5);
    expect(median([])).toBeNaN();
  });

  it('takes nearest-rank percentiles of small samples', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentileOf(values, 50)).toBe(50);
    expect(percentileOf(values, 99)).toBe(99);
    expect(percentileOf(values, 100)).toBe(100);
    expect(percentileOf([7], 99)).toBe(7);
  });

  it('rounds ratios and refuses to divide by nothing', () => {
    expect(ratio(1, 3)).toBe(0.33);
    expect(ratio(1, 0)).toBeNaN();
    expect(ratio(NaN, 2)).toBeNaN();
  });

  it('says a run kept up only when everything arrived within the offered time plus slack', () => {
    expect(keptUp(100, 100, 10, 11)).toBe(true);
    expect(keptUp(100, 99, 10, 11)).toBe(false);
    expect(keptUp(100, 100, 10, 13)).toBe(false);
  });
});
