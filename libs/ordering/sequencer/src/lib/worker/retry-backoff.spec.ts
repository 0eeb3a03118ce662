import { DEFAULT_RETRY_BACKOFF, retryDelayMs } from './retry-backoff';

describe('retryDelayMs', () => {
  it('doubles from the initial delay', () => {
    expect([1, 2, 3, 4].map((attempt) => retryDelayMs(attempt, DEFAULT_RETRY_BACKOFF))).toEqual([200, 400, 800, 1600]);
  });

  it('never exceeds the maximum, however many attempts failed', () => {
    expect(retryDelayMs(6, DEFAULT_RETRY_BACKOFF)).toBe(5_000);
    expect(retryDelayMs(60, { initialMs: 10, maxMs: 70 })).toBe(70);
  });
});
