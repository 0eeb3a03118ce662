import { Test } from '@nestjs/testing';
import { HealthController } from './health.controller';
import { HealthModule } from './health.module';

function response() {
  const res = { code: 200, status: (code: number) => ((res.code = code), res) };
  return res;
}

describe('HealthController', () => {
  it('is ready while every check passes, and not ready from the moment shutdown begins', async () => {
    let probed = 0;
    const moduleRef = await Test.createTestingModule({
      imports: [HealthModule.forRoot({ useFactory: () => [{ name: 'db', check: async () => void probed++ }] })],
    }).compile();
    const controller = moduleRef.get(HealthController);

    const before = response();
    await expect(controller.readyz(before)).resolves.toEqual({ status: 'ready', checks: { db: 'ok' } });
    expect(before.code).toBe(200);

    await moduleRef.close();
    const during = response();
    await expect(controller.readyz(during)).resolves.toEqual({
      status: 'not_ready',
      checks: { shutdown: expect.stringContaining('draining'), db: 'ok' },
    });
    expect(during.code).toBe(503);
    expect(probed).toBe(2);
    // Liveness is unaffected: a draining process is alive and must not be killed early.
    expect(controller.healthz()).toEqual({ status: 'ok' });
  });

  it('answers 503 naming the failing dependency', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        HealthModule.forRoot({
          useFactory: () => [
            {
              name: 'kafka',
              check: async () => {
                throw new Error('missing topic(s): t');
              },
            },
          ],
        }),
      ],
    }).compile();
    const res = response();
    await expect(moduleRef.get(HealthController).readyz(res)).resolves.toEqual({
      status: 'not_ready',
      checks: { kafka: 'error: missing topic(s): t' },
    });
    expect(res.code).toBe(503);
  });
});
