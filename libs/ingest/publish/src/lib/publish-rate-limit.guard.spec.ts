import type { ExecutionContext } from '@nestjs/common';
import { ApiError } from '@seqcast/http-api';
import { publishCost, PublishRateLimitGuard, windowFor } from './publish-rate-limit.guard';

function contextFor(request: unknown): ExecutionContext {
  return { switchToHttp: () => ({ getRequest: () => request }) } as unknown as ExecutionContext;
}

describe('publish rate limit', () => {
  it('counts each batch item, capped at the batch limit', () => {
    expect(publishCost({ clientMsgId: 'a', payload: 1 })).toBe(1);
    expect(publishCost({ messages: [1, 2, 3] })).toBe(3);
    expect(publishCost({ messages: [] })).toBe(1);
    expect(publishCost({ messages: new Array(9000).fill(0) })).toBe(500);
  });

  it('uses a window that always holds one full batch', () => {
    expect(windowFor(1000)).toEqual({ points: 1000, durationSeconds: 1 });
    expect(windowFor(100)).toEqual({ points: 500, durationSeconds: 5 });
    expect(windowFor(7)).toEqual({ points: 504, durationSeconds: 72 });
  });

  it('refuses a principal over its budget with 429 and Retry-After, per principal', async () => {
    const guard = new PublishRateLimitGuard({ messagesPerSecond: 500 });
    const alice = { principal: { userId: 'alice' }, body: { messages: new Array(500).fill({}) } };
    await expect(guard.canActivate(contextFor(alice))).resolves.toBe(true);
    const error = await guard.canActivate(contextFor({ ...alice, body: {} })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 429, code: 'rate_limited', retryAfterSeconds: 1 });
    await expect(guard.canActivate(contextFor({ principal: { userId: 'bob' }, body: {} }))).resolves.toBe(true);
  });

  it('does nothing when turned off', async () => {
    const guard = new PublishRateLimitGuard({ messagesPerSecond: 0 });
    for (let i = 0; i < 5; i++) {
      await expect(
        guard.canActivate(contextFor({ principal: { userId: 'a' }, body: { messages: new Array(500) } })),
      ).resolves.toBe(true);
    }
  });
});
