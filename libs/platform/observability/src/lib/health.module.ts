import { type DynamicModule, type FactoryProvider, type ModuleMetadata, Module } from '@nestjs/common';
import { HealthController } from './health.controller';
import { READINESS_CHECKS, type ReadinessCheck } from './readiness-check';
import { ShutdownState } from './shutdown-state';

export interface HealthModuleOptions {
  imports?: ModuleMetadata['imports'];
  inject?: FactoryProvider['inject'];
  /** Builds the service's readiness checks from its own providers (Kafka admin, DataSource, ...). */
  useFactory: (...deps: never[]) => ReadinessCheck[] | Promise<ReadinessCheck[]>;
}

@Module({})
export class HealthModule {
  static forRoot(options: HealthModuleOptions): DynamicModule {
    return {
      module: HealthModule,
      imports: options.imports ?? [],
      controllers: [HealthController],
      providers: [
        ShutdownState,
        {
          provide: READINESS_CHECKS,
          inject: options.inject ?? [],
          useFactory: options.useFactory as (...deps: unknown[]) => ReadinessCheck[] | Promise<ReadinessCheck[]>,
        },
      ],
    };
  }
}
