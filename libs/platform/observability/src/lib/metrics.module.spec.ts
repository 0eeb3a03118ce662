import { Test } from '@nestjs/testing';
import { Counter, register } from 'prom-client';
import { HealthModule } from './health.module';
import { startManagementServer } from './management-server';
import { MetricsModule } from './metrics.module';

describe('MetricsModule and the management port', () => {
  afterAll(() => register.clear());

  it('serves process defaults and feature metrics with the service label, and the probes, on the management port only', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        MetricsModule.forRoot({ service: 'unit-svc' }),
        HealthModule.forRoot({ useFactory: () => [{ name: 'thing', check: async () => undefined }] }),
      ],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    const management = await startManagementServer(app, { host: '127.0.0.1', port: 0 });
    try {
      const accepted = new Counter({ name: 'seqcast_unit_accepted_total', help: 'test counter' });
      accepted.inc(3);

      const text = await (await fetch(`${management.url}/metrics`)).text();
      expect(text).toContain('seqcast_unit_accepted_total{service="unit-svc"} 3');
      expect(text).toMatch(/process_resident_memory_bytes\{service="unit-svc"\} \d+/);
      expect(text).toContain('nodejs_eventloop_lag_seconds');

      const ready = await fetch(`${management.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: 'ready', checks: { thing: 'ok' } });
      expect((await fetch(`${management.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${management.url}/nope`)).status).toBe(404);

      const { port } = app.getHttpServer().address() as { port: number };
      expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(404);
    } finally {
      await management.close();
      await app.close();
    }
  });
});
