import { backoffDelay } from './backoff';

/** Deterministic PRNG (mulberry32) so a failure is reproducible. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('backoffDelay', () => {
  const opts = { baseDelayMs: 500, maxDelayMs: 30_000 };

  it('stays within [0, min(max, base * 2^attempt)] for many random values', () => {
    const random = prng(42);
    for (let attempt = 0; attempt <= 40; attempt++) {
      const ceiling = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** attempt);
      let seenAboveHalf = false;
      for (let i = 0; i < 500; i++) {
        const delay = backoffDelay(attempt, opts, random);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(ceiling);
        expect(Number.isInteger(delay)).toBe(true);
        if (delay > ceiling / 2) seenAboveHalf = true;
      }
      // Full jitter uses the whole range, not just its bottom.
      expect(seenAboveHalf).toBe(true);
    }
  });

  it('grows exponentially until the cap, then honours maxDelayMs', () => {
    const top = () => 0.999999;
    expect(backoffDelay(0, opts, top)).toBe(499);
    expect(backoffDelay(1, opts, top)).toBe(999);
    expect(backoffDelay(5, opts, top)).toBe(15_999);
    expect(backoffDelay(6, opts, top)).toBe(29_999);
    expect(backoffDelay(60, opts, top)).toBe(29_999);
    expect(backoffDelay(5000, opts, top)).toBe(29_999); // 2^5000 is Infinity: still capped
  });

  it('is full jitter: random() = 0 means no wait at all', () => {
    expect(backoffDelay(7, opts, () => 0)).toBe(0);
  });

  it('clamps a misbehaving random source into the range', () => {
    expect(backoffDelay(0, opts, () => 7)).toBe(500);
    expect(backoffDelay(0, opts, () => -1)).toBe(0);
  });

  it('uses Math.random by default', () => {
    for (let i = 0; i < 100; i++) {
      const delay = backoffDelay(3, { baseDelayMs: 100, maxDelayMs: 10_000 });
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThanOrEqual(800);
    }
  });
});
