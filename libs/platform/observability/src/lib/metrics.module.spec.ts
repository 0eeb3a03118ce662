import { Test } from '@nestjs/testing';
import { Counter, register } from 'prom-client';
import { MetricsController } from './metrics.controller';
import { MetricsModule } from './metrics.module';

describe('MetricsModule', () => {
  afterAll(() => register.clear());

  it('exposes process defaults and feature metrics with the service label', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [MetricsModule.forRoot({ service: 'unit-svc' })] }).compile();
    const accepted = new Counter({ name: 'seqcast_unit_accepted_total', help: 'test counter' });
    accepted.inc(3);

    const text = await moduleRef.get(MetricsController).metrics();

    expect(text).toContain('seqcast_unit_accepted_total{service="unit-svc"} 3');
    expect(text).toMatch(/process_resident_memory_bytes\{service="unit-svc"\} \d+/);
    expect(text).toContain('nodejs_eventloop_lag_seconds');
  });
});
