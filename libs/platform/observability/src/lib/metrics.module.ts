import { type DynamicModule, Module } from '@nestjs/common';
import { collectDefaultMetrics, register } from 'prom-client';
import { MetricsController } from './metrics.controller';

/**
 * `GET /metrics` in Prometheus text format, plus the process defaults (CPU, memory, event-loop lag,
 * GC). Features define their own metrics with prom-client on the default registry (names
 * `seqcast_*`, base units, `_total` counters); this module only exposes them. Every series carries
 * a `service` label so one dashboard can tell the three services apart.
 */
@Module({})
export class MetricsModule {
  private static defaultsCollected = false;

  static forRoot(options: { service: string }): DynamicModule {
    register.setDefaultLabels({ service: options.service });
    if (!MetricsModule.defaultsCollected) {
      collectDefaultMetrics();
      MetricsModule.defaultsCollected = true;
    }
    return { module: MetricsModule, controllers: [MetricsController] };
  }
}
