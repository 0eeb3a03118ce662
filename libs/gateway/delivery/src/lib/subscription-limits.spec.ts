import { SubscriptionLimits } from './subscription-limits';

describe('SubscriptionLimits', () => {
  it('holds a socket to its room count; held rooms and released slots do not count twice', () => {
    const limits = new SubscriptionLimits({ maxPerSocket: 2, opsPerMinute: 0 });
    expect(limits.reserve('s', 'a')).toBeUndefined();
    expect(limits.reserve('s', 'b')).toBeUndefined();
    expect(limits.reserve('s', 'a')).toBeUndefined();
    expect(limits.reserve('s', 'c')).toMatchObject({ ok: false, error: { code: 'limit_exceeded' } });
    expect(limits.reserve('other', 'c')).toBeUndefined();
    limits.release('s', 'b');
    expect(limits.reserve('s', 'c')).toBeUndefined();
    limits.forget('s');
    expect(limits.heldBy('s')).toBe(0);
  });

  it('refuses requests past the per-minute budget, which always covers a full resubscribe', () => {
    const limits = new SubscriptionLimits({ maxPerSocket: 5, opsPerMinute: 3 });
    for (let i = 0; i < 5; i++) expect(limits.spend('s')).toBeUndefined();
    expect(limits.spend('s')).toMatchObject({ ok: false, error: { code: 'rate_limited' } });
    expect(limits.spend('t')).toBeUndefined();
  });

  it('counts a fixed minute from the first request, says when to retry, and starts afresh after it', () => {
    let now = 1_000_000;
    const limits = new SubscriptionLimits({ maxPerSocket: 0, opsPerMinute: 2 }, () => now);
    expect(limits.spend('s')).toBeUndefined();
    now += 20_000;
    expect(limits.spend('s')).toBeUndefined();
    now += 15_500;
    expect(limits.spend('s')).toMatchObject({ ok: false, error: { code: 'rate_limited', message: expect.stringMatching(/retry in 25 s$/) } });
    now += 24_500; // the minute that began with the first request is over
    expect(limits.spend('s')).toBeUndefined();
    expect(limits.spend('s')).toBeUndefined();
    expect(limits.spend('s')).toMatchObject({ ok: false });
    limits.forget('s');
    expect(limits.spend('s')).toBeUndefined();
  });

  it('keeps nothing for a socket while both limits are off', () => {
    const limits = new SubscriptionLimits({ maxPerSocket: 0, opsPerMinute: 0 });
    expect(limits.spend('s')).toBeUndefined();
    expect(limits.reserve('s', 'a')).toBeUndefined();
    expect(limits.heldBy('s')).toBe(0);
  });
});
