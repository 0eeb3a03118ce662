import type { DynamicModule, FactoryProvider, ModuleMetadata } from '@nestjs/common';
import type { DataSource } from '@seqcast/persistence';

/** A dependency the host application owns (and closes); the module only injects it. */
export interface HostProvided<T> {
  inject?: FactoryProvider['inject'];
  useFactory: (...deps: never[]) => T | Promise<T>;
}

export interface HistoryQueryOptions {
  /** The host's `HttpAuthModule.register(...)` (@seqcast/http-api): who the caller is. */
  authentication: DynamicModule;
  /** Modules exporting what the `dataSource` factory injects. */
  imports?: ModuleMetadata['imports'];
  /** The database history is read from. */
  dataSource: HostProvided<DataSource>;
}

export const MESSAGE_HISTORY = Symbol('HISTORY_MESSAGE_HISTORY');
export const HISTORY_DATA_SOURCE = Symbol('HISTORY_DATA_SOURCE');
