import { type DynamicModule, Module } from '@nestjs/common';
import { ApiKeyAuthenticator, TokenVerifier } from '@seqcast/auth';
import { BearerAuthGuard } from '@seqcast/http-api';
import { ApiKeyRepository, type DataSource, MessageHistoryRepository } from '@seqcast/persistence';
import { HistoryController } from './history.controller';
import { HistoryService } from './history.service';
import { HISTORY_DATA_SOURCE, type HistoryQueryOptions, MESSAGE_HISTORY } from './history-query.options';

/** Default bound on how long a revoked API key keeps working on one instance (as ingest's). */
export const DEFAULT_API_KEY_CACHE_TTL_MS = 30_000;

/**
 * The history endpoint, `GET /v1/rooms/:roomId/messages`: a room's stored messages after a seq,
 * for callers whose credential grants `history` on the room. Self-contained (its own bearer/API-key
 * authentication over the same rules as publishing), so any HTTP service can mount it; ingest-api
 * does. Errors are ApiErrors (@seqcast/http-api), rendered by the host's error filter.
 */
@Module({})
export class HistoryQueryModule {
  static register(options: HistoryQueryOptions): DynamicModule {
    return {
      module: HistoryQueryModule,
      imports: options.imports ?? [],
      controllers: [HistoryController],
      providers: [
        {
          provide: HISTORY_DATA_SOURCE,
          inject: options.dataSource.inject ?? [],
          useFactory: options.dataSource.useFactory as (...deps: unknown[]) => DataSource | Promise<DataSource>,
        },
        {
          provide: MESSAGE_HISTORY,
          inject: [HISTORY_DATA_SOURCE],
          useFactory: (dataSource: DataSource) => new MessageHistoryRepository(dataSource),
        },
        { provide: TokenVerifier, useValue: tokenVerifierFor(options) },
        {
          provide: ApiKeyAuthenticator,
          inject: [HISTORY_DATA_SOURCE],
          useFactory: (dataSource: DataSource) =>
            new ApiKeyAuthenticator(new ApiKeyRepository(dataSource), {
              cacheTtlMs: options.apiKeyCacheTtlMs ?? DEFAULT_API_KEY_CACHE_TTL_MS,
            }),
        },
        BearerAuthGuard,
        HistoryService,
      ],
    };
  }
}

function tokenVerifierFor(options: HistoryQueryOptions): TokenVerifier {
  if (options.auth) return new TokenVerifier(options.auth);
  if (options.jwtSecret) return TokenVerifier.withSecret(options.jwtSecret);
  throw new Error('HistoryQueryModule needs `auth` or `jwtSecret`');
}
