import { type DynamicModule, Module } from '@nestjs/common';
import {
  ORDERING_WORKER_SETTINGS,
  type OrderingWorkerModuleOptions,
  WORKER_DATA_SOURCE,
  WORKER_FAULTS,
  WORKER_KAFKA,
} from './ordering-worker.options';
import { HistoryRetentionService } from './history-retention.service';
import { OrderingWorkerService } from './ordering-worker.service';

/**
 * The ordering worker as a Nest module: it starts consuming on application bootstrap and, on
 * shutdown, finishes the batches in flight and leaves the group before the host closes anything;
 * history retention runs beside it when configured. The host owns (and closes) the Kafka client
 * and DataSource.
 */
@Module({})
export class OrderingWorkerModule {
  static register(options: OrderingWorkerModuleOptions): DynamicModule {
    return {
      module: OrderingWorkerModule,
      imports: options.imports ?? [],
      providers: [
        { provide: ORDERING_WORKER_SETTINGS, useValue: options.settings },
        { provide: WORKER_KAFKA, inject: options.kafka.inject ?? [], useFactory: asFactory(options.kafka.useFactory) },
        {
          provide: WORKER_DATA_SOURCE,
          inject: options.dataSource.inject ?? [],
          useFactory: asFactory(options.dataSource.useFactory),
        },
        ...(options.faults ? [{ provide: WORKER_FAULTS, useValue: options.faults }] : []),
        OrderingWorkerService,
        HistoryRetentionService,
      ],
      exports: [OrderingWorkerService, HistoryRetentionService],
    };
  }
}

function asFactory<T>(factory: (...deps: never[]) => T): (...deps: unknown[]) => T {
  return factory as (...deps: unknown[]) => T;
}
