import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import type { Principal } from '@seqcast/auth';
import { type HistoryPage, historyQuerySchema } from '@seqcast/contracts';
import { BearerAuthGuard, CurrentPrincipal, parseRequestPart, parseRoomParam } from '@seqcast/http-api';
import { HistoryService } from './history.service';

@Controller('v1')
@UseGuards(BearerAuthGuard)
export class HistoryController {
  constructor(private readonly history: HistoryService) {}

  @Get('rooms/:roomId/messages')
  async page(
    @CurrentPrincipal() principal: Principal,
    @Param('roomId') roomIdParam: string,
    @Query() query: unknown,
  ): Promise<HistoryPage> {
    const roomId = parseRoomParam(roomIdParam);
    return this.history.page(principal, roomId, parseRequestPart(historyQuerySchema, query));
  }
}
