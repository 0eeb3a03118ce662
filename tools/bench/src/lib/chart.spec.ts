import { barSpec, cdfSpec } from './chart';

describe('chart specs', () => {
  it('puts every series point into a log-scaled CDF', () => {
    const spec = cdfSpec('t', [
      { name: 'a', points: [{ ms: 0, fraction: 0 }, { ms: 5, fraction: 1 }] },
      { name: 'b', points: [{ ms: 2, fraction: 0.5 }] },
    ]) as { data: { values: Array<{ series: string; ms: number; percentile: number }> }; encoding: { x: { scale: { type: string } } } };
    expect(spec.data.values).toEqual([
      { series: 'a', ms: 0.01, percentile: 0 },
      { series: 'a', ms: 5, percentile: 100 },
      { series: 'b', ms: 2, percentile: 50 },
    ]);
    expect(spec.encoding.x.scale.type).toBe('log');
  });

  it('groups bars by measurement', () => {
    const spec = barSpec('t', 'KB', [{ group: 'RSS', label: 'seqcast', value: 20 }]) as { data: { values: unknown[] } };
    expect(spec.data.values).toHaveLength(1);
  });
});
