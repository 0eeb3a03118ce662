import { ApiError } from '@seqcast/http-api';
import { KafkaUnavailableError } from '@seqcast/kafka';
import { publishFailureOf } from './publish-failure';
import { PublishRateLimiter } from './publish-rate-limiter';

describe('publishFailureOf', () => {
  it('keeps an ApiError code and message and turns Retry-After seconds into milliseconds', () => {
    expect(publishFailureOf(ApiError.forbidden('no'))).toEqual({ code: 'forbidden', message: 'no' });
    expect(publishFailureOf(ApiError.unavailable('draining'))).toMatchObject({
      code: 'unavailable',
      message: 'draining',
      retryAfterMs: 5000,
    });
  });

  it('answers a broker that cannot take writes as unavailable, keeping the cause for the log only', () => {
    const failure = publishFailureOf(new KafkaUnavailableError('send: ECONNREFUSED'));
    expect(failure).toEqual({
      code: 'unavailable',
      message: 'the message broker cannot take writes right now; retry later',
      retryAfterMs: 5000,
      detail: 'send: ECONNREFUSED',
    });
  });

  it('leaves anything else to the caller (a bug, answered internal)', () => {
    expect(publishFailureOf(new TypeError('x is undefined'))).toBeUndefined();
  });
});

describe('PublishRateLimiter', () => {
  it('refuses a principal over its budget with the seconds to wait, per principal', async () => {
    const limiter = new PublishRateLimiter({ messagesPerSecond: 500 });
    await limiter.consume('alice', 500);
    const error = await limiter.consume('alice', 1).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 429, code: 'rate_limited', retryAfterSeconds: 1 });
    expect(publishFailureOf(error)).toMatchObject({ code: 'rate_limited', retryAfterMs: 1000 });
    await expect(limiter.consume('bob', 1)).resolves.toBeUndefined();
  });

  it('does nothing when turned off', async () => {
    const limiter = new PublishRateLimiter({ messagesPerSecond: 0 });
    for (let i = 0; i < 3; i++) await expect(limiter.consume('a', 500)).resolves.toBeUndefined();
  });
});
