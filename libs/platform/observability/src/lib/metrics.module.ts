import { type DynamicModule, Module } from '@nestjs/common';
import { collectDefaultMetrics, register } from 'prom-client';

/**
 * Prometheus metrics: the process defaults (CPU, memory, event-loop lag, GC) plus what features
 * define with prom-client on the default registry (names `seqcast_*`, base units, `_total`
 * counters). Every series carries a `service` label so one dashboard can tell the three services
 * apart. Served by startManagementServer on the management port only, never on the public port.
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
    return { module: MetricsModule };
  }
}
