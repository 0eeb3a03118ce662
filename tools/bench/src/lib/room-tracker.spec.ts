import { RoomTracker } from './room-tracker';

describe('RoomTracker', () => {
  it('counts in-order messages', () => {
    const t = new RoomTracker();
    for (let n = 0; n < 5; n++) expect(t.add(n)).toBe(true);
    expect(t.unique).toBe(5);
    expect(t.missing(5)).toBe(0);
    expect(t.contiguous).toBe(true);
  });

  it('tells duplicates apart, before and after a gap', () => {
    const t = new RoomTracker();
    t.add(0);
    t.add(2);
    expect(t.add(0)).toBe(false);
    expect(t.add(2)).toBe(false);
    expect(t.duplicates).toBe(2);
    expect(t.contiguous).toBe(false);
  });

  it('fills a gap when the missing message arrives late', () => {
    const t = new RoomTracker();
    t.add(0);
    t.add(2);
    t.add(3);
    expect(t.missing(4)).toBe(1);
    t.add(1);
    expect(t.missing(4)).toBe(0);
    expect(t.contiguous).toBe(true);
    expect(t.unique).toBe(4);
  });

  it('counts what never arrived as missing', () => {
    const t = new RoomTracker();
    t.add(0);
    expect(t.missing(10)).toBe(9);
  });
});

describe('RoomTracker with messages the publisher never got acknowledged', () => {
  it('neither counts them as lost nor as a gap', () => {
    const t = new RoomTracker();
    t.add(0);
    t.add(2);
    const excused = new Set([1]);
    expect(t.missing(3, excused)).toBe(0);
    expect(t.contiguousBut(excused)).toBe(true);
    expect(t.contiguousBut(undefined)).toBe(false);
  });

  it('still counts a received excused message once', () => {
    const t = new RoomTracker();
    t.add(0);
    t.add(1);
    expect(t.missing(3, new Set([1]))).toBe(1);
  });
});
