import { decideGap } from './gap-decision';

describe('decideGap', () => {
  it('seeks back to the stored position the first time a batch starts above it', () => {
    expect(decideGap(10, 15, undefined)).toEqual({ action: 'seek', seek: { to: 10, landedAt: 15 } });
  });

  it('passes over the gap when the seek landed at the same offset again: those offsets hold no records', () => {
    expect(decideGap(10, 15, { to: 10, landedAt: 15 })).toEqual({ action: 'pass-over' });
  });

  it('seeks again when the position or the landing offset differs from the last seek', () => {
    expect(decideGap(12, 15, { to: 10, landedAt: 15 })).toEqual({ action: 'seek', seek: { to: 12, landedAt: 15 } });
    expect(decideGap(10, 17, { to: 10, landedAt: 15 })).toEqual({ action: 'seek', seek: { to: 10, landedAt: 17 } });
  });
});
