import { runReadinessChecks } from './readiness-check';
import { logLevelsFrom } from './logger';

describe('runReadinessChecks', () => {
  it('is ready only when every check passes', async () => {
    const ok = { name: 'db', check: async () => undefined };
    const broken = {
      name: 'kafka',
      check: async () => {
        throw new Error('connection refused');
      },
    };
    await expect(runReadinessChecks([ok], 100)).resolves.toEqual({ ready: true, checks: { db: 'ok' } });
    await expect(runReadinessChecks([ok, broken], 100)).resolves.toEqual({
      ready: false,
      checks: { db: 'ok', kafka: 'error: connection refused' },
    });
  });

  it('bounds a check that never answers', async () => {
    const hung = { name: 'db', check: () => new Promise<void>(() => undefined) };
    const result = await runReadinessChecks([hung], 20);
    expect(result).toEqual({ ready: false, checks: { db: 'error: no answer within 20 ms' } });
  });
});

describe('logLevelsFrom', () => {
  it('includes the named level and everything more severe', () => {
    expect(logLevelsFrom('warn')).toEqual(['fatal', 'error', 'warn']);
    expect(logLevelsFrom('verbose')).toHaveLength(6);
    expect(logLevelsFrom('nonsense')).toEqual(['fatal', 'error', 'warn', 'log']);
  });
});
