import type { FactoryProvider, ModuleMetadata } from '@nestjs/common';
import type { TokenVerifierOptions } from '@seqcast/auth';
import type { DataSource } from '@seqcast/persistence';

/** A dependency the host application owns (and closes); the module only injects it. */
export interface HostProvided<T> {
  inject?: FactoryProvider['inject'];
  useFactory: (...deps: never[]) => T | Promise<T>;
}

export interface HistoryQueryOptions {
  /** How bearer tokens are verified (SEQCAST_JWT_*): the resolved AuthSettings. */
  auth?: TokenVerifierOptions;
  /** Shorthand for an HS256 `auth` (development and tests); ignored when `auth` is given. */
  jwtSecret?: string;
  /** SEQCAST_API_KEY_CACHE_TTL_MS: how long an API key lookup is reused, i.e. how late a revocation bites. */
  apiKeyCacheTtlMs?: number;
  /** Modules exporting what the `dataSource` factory injects. */
  imports?: ModuleMetadata['imports'];
  /** The database history is read from (and API keys are looked up in). */
  dataSource: HostProvided<DataSource>;
}

export const MESSAGE_HISTORY = Symbol('HISTORY_MESSAGE_HISTORY');
export const HISTORY_DATA_SOURCE = Symbol('HISTORY_DATA_SOURCE');
