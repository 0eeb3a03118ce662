import { type DynamicModule, Module } from '@nestjs/common';
import { BearerAuthGuard } from '@seqcast/http-api';
import { type DataSource, MessageHistoryRepository } from '@seqcast/persistence';
import { HistoryController } from './history.controller';
import { HistoryService } from './history.service';
import { HISTORY_DATA_SOURCE, type HistoryQueryOptions, MESSAGE_HISTORY } from './history-query.options';

/**
 * The history endpoint, `GET /v1/rooms/:roomId/messages`: a room's stored messages after a seq,
 * for callers whose credential grants `history` on the room. Any HTTP service can mount it (ingest-api
 * does); callers are authenticated by the host's HttpAuthModule, the same rules as publishing.
 * Errors are ApiErrors (@seqcast/http-api), rendered by the host's error filter.
 */
@Module({})
export class HistoryQueryModule {
  static register(options: HistoryQueryOptions): DynamicModule {
    return {
      module: HistoryQueryModule,
      imports: [...(options.imports ?? []), options.authentication],
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
        BearerAuthGuard,
        HistoryService,
      ],
    };
  }
}
