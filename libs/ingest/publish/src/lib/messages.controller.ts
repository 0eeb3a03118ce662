import { Body, Controller, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import type { Principal } from '@seqcast/auth';
import { type BatchPublishResult, batchBodySchema, type PublishResult, publishBodySchema } from '@seqcast/contracts';
import { BearerAuthGuard, CurrentPrincipal, parseJsonBody, parseRoomParam } from '@seqcast/http-api';
import { PublishRateLimitGuard } from './publish-rate-limit.guard';
import { PublishService } from './publish.service';

@Controller('v1')
// Guards run in order: the rate limit keys on the principal authentication found.
@UseGuards(BearerAuthGuard, PublishRateLimitGuard)
export class MessagesController {
  constructor(private readonly publisher: PublishService) {}

  @Post('rooms/:roomId/messages')
  @HttpCode(202)
  async publish(
    @CurrentPrincipal() principal: Principal,
    @Param('roomId') roomIdParam: string,
    @Body() body: unknown,
  ): Promise<PublishResult> {
    const roomId = parseRoomParam(roomIdParam);
    const { clientMsgId, payload } = parseJsonBody(publishBodySchema, body);
    return this.publisher.publish(principal, { roomId, clientMsgId, payload });
  }

  @Post('messages/batch')
  @HttpCode(202)
  async publishBatch(@CurrentPrincipal() principal: Principal, @Body() body: unknown): Promise<BatchPublishResult> {
    const { messages } = parseJsonBody(batchBodySchema, body);
    return this.publisher.publishBatch(principal, messages);
  }
}
