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

  it('refuses requests past the per-minute budget, which always covers a full resubscribe', async () => {
    const limits = new SubscriptionLimits({ maxPerSocket: 5, opsPerMinute: 3 });
    for (let i = 0; i < 5; i++) expect(await limits.spend('s')).toBeUndefined();
    expect(await limits.spend('s')).toMatchObject({ ok: false, error: { code: 'rate_limited' } });
    expect(await limits.spend('t')).toBeUndefined();
  });
});
