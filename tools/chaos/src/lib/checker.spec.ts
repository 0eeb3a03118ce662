import { check, summarize, unavailabilityWindows } from './checker';
import type { Delivery, History, PublishAttempt, StoredMessage } from './history';

const ROOM = 'chaos:r0';

/** Message n published at t=n*10 (acknowledged at once), stored as seq n, delivered at t=n*10+5 to both subscribers. */
function cleanHistory(count = 5): History {
  const publishes: PublishAttempt[] = [];
  const stored: StoredMessage[] = [];
  const deliveries: Delivery[] = [];
  for (let n = 0; n < count; n++) {
    const clientMsgId = `m-${n}`;
    publishes.push({ roomId: ROOM, clientMsgId, attempt: 1, startedAt: n * 10, endedAt: n * 10 + 2, outcome: 'ok', offset: n });
    const message = { roomId: ROOM, seq: n, prevSeq: n === 0 ? null : n - 1, clientMsgId };
    stored.push(message);
    for (const subscriber of ['sub-a', 'sub-b']) {
      for (const layer of ['raw', 'app'] as const) deliveries.push({ ...message, subscriber, layer, at: n * 10 + 5 });
    }
  }
  return {
    publishes,
    stored: { [ROOM]: stored },
    deliveries,
    subscribers: [
      { name: 'sub-a', rooms: [ROOM] },
      { name: 'sub-b', rooms: [ROOM] },
    ],
    faults: [],
  };
}

const without = (history: History, predicate: (d: Delivery) => boolean): History => ({
  ...history,
  deliveries: history.deliveries.filter((d) => !predicate(d)),
});

describe('check', () => {
  it('passes a clean history and measures its latency', () => {
    const report = check(cleanHistory());
    expect(report).toMatchObject({
      ok: true,
      attemptedMessages: 5,
      acknowledged: 5,
      unacknowledged: 0,
      stored: 5,
      lost: [],
      duplicates: [],
      reorders: [],
      seqDisagreements: [],
      phantoms: [],
      rawDuplicates: 0,
      chainBreaks: 0,
      unavailability: [],
      stalls: [],
    });
    expect(report.latency).toEqual({ count: 10, p50: 5, p99: 5, max: 5 });
  });

  it('reports an acknowledged message missing from history as lost', () => {
    const history = cleanHistory();
    history.stored[ROOM] = history.stored[ROOM].filter((m) => m.seq !== 2);
    const report = check(without(history, (d) => d.seq === 2));
    expect(report.ok).toBe(false);
    expect(report.lost).toEqual([{ roomId: ROOM, clientMsgId: 'm-2', reason: 'not-in-history', acknowledged: true }]);
  });

  it('does not count an unacknowledged, unstored message as lost', () => {
    const history = cleanHistory(2);
    history.publishes.push({ roomId: ROOM, clientMsgId: 'gave-up', attempt: 1, startedAt: 30, endedAt: 40, outcome: 'network' });
    const report = check(history);
    expect(report.ok).toBe(true);
    expect(report.unacknowledged).toBe(1);
  });

  it('reports a stored message one subscriber never got as lost for that subscriber', () => {
    const report = check(without(cleanHistory(), (d) => d.subscriber === 'sub-b' && d.layer === 'app' && d.seq === 3));
    expect(report.ok).toBe(false);
    expect(report.lost).toEqual([{ roomId: ROOM, clientMsgId: 'm-3', reason: 'not-delivered', subscriber: 'sub-b', acknowledged: true }]);
    expect(report.chainBreaks).toBe(1);
  });

  it('tolerates raw redeliveries the SDK dedupes, but not a duplicate handed to the app', () => {
    const history = cleanHistory();
    const again = history.deliveries.find((d) => d.subscriber === 'sub-a' && d.layer === 'raw' && d.seq === 1) as Delivery;
    history.deliveries.push({ ...again, at: 100 });
    const rawOnly = check(history);
    expect(rawOnly.ok).toBe(true);
    expect(rawOnly.rawDuplicates).toBe(1);

    history.deliveries.push({ ...again, layer: 'app', at: 100 });
    const report = check(history);
    expect(report.ok).toBe(false);
    expect(report.duplicates).toEqual([{ where: 'sub-a', roomId: ROOM, clientMsgId: 'm-1', seqs: [1, 1] }]);
  });

  it('reports a retried publish stored twice as a duplicate in history and at every subscriber', () => {
    const history = cleanHistory(2);
    const copy = { roomId: ROOM, seq: 2, prevSeq: 1, clientMsgId: 'm-1' };
    history.stored[ROOM].push(copy);
    for (const subscriber of ['sub-a', 'sub-b']) history.deliveries.push({ ...copy, subscriber, layer: 'app', at: 30 });
    const report = check(history);
    expect(report.ok).toBe(false);
    expect(report.duplicates).toEqual(
      expect.arrayContaining([
        { where: 'history', roomId: ROOM, clientMsgId: 'm-1', seqs: [1, 2] },
        { where: 'sub-a', roomId: ROOM, clientMsgId: 'm-1', seqs: [1, 2] },
        { where: 'sub-b', roomId: ROOM, clientMsgId: 'm-1', seqs: [1, 2] },
      ]),
    );
  });

  it('reports a message handed to the app after a later one as a reorder', () => {
    const history = cleanHistory();
    const swapped = history.deliveries.find((d) => d.subscriber === 'sub-a' && d.layer === 'app' && d.seq === 2) as Delivery;
    swapped.at = 45; // seq 4 arrives at 45 too; a stable sort keeps the later-recorded one after it
    history.deliveries.splice(history.deliveries.indexOf(swapped), 1);
    history.deliveries.push(swapped);
    const report = check(history);
    expect(report.ok).toBe(false);
    expect(report.reorders).toEqual([{ subscriber: 'sub-a', roomId: ROOM, seq: 2, afterSeq: 4 }]);
  });

  it('reports subscribers that disagree with history and with each other about a seq', () => {
    const history = cleanHistory(3);
    const a = history.deliveries.find((d) => d.subscriber === 'sub-a' && d.layer === 'app' && d.seq === 1) as Delivery;
    const b = history.deliveries.find((d) => d.subscriber === 'sub-b' && d.layer === 'app' && d.seq === 1) as Delivery;
    // Both claim seq 1 carries a different message than history says, and different from each other.
    history.stored[ROOM][1] = { ...history.stored[ROOM][1], clientMsgId: 'm-1' };
    a.seq = 7;
    b.seq = 7;
    b.clientMsgId = 'm-2';
    const report = check(history);
    expect(report.ok).toBe(false);
    expect(report.seqDisagreements.map((d) => d.between)).toEqual(expect.arrayContaining(['sub-a vs history', 'sub-a vs sub-b']));
  });

  it('reports a message delivered or stored that nobody published as a phantom', () => {
    const history = cleanHistory(2);
    const ghost = { roomId: ROOM, seq: 2, prevSeq: 1, clientMsgId: 'ghost' };
    history.stored[ROOM].push(ghost);
    history.deliveries.push({ ...ghost, subscriber: 'sub-a', layer: 'raw', at: 25 });
    history.deliveries.push({ ...ghost, subscriber: 'sub-a', layer: 'app', at: 25 });
    history.deliveries.push({ ...ghost, subscriber: 'sub-b', layer: 'app', at: 25 });
    const report = check(history);
    expect(report.ok).toBe(false);
    expect(report.phantoms.map((p) => p.where).sort()).toEqual(['history', 'sub-a/app', 'sub-a/raw', 'sub-b/app']);
  });

  it('measures a delivery stall while publishes were being accepted', () => {
    const history = cleanHistory(10);
    for (const d of history.deliveries) if (d.seq >= 4 && d.seq <= 6) d.at = 75; // held back, then a burst
    const report = check(history, { stallThresholdMs: 20 });
    expect(report.ok).toBe(true);
    expect(report.stalls).toEqual([
      { from: 35, to: 75, ms: 40, who: 'sub-a' },
      { from: 35, to: 75, ms: 40, who: 'sub-b' },
    ]);
  });

  it('reports a subscriber that stopped receiving before publishing ended as stalled until the last ack', () => {
    const history = without(cleanHistory(10), (d) => d.subscriber === 'sub-b' && d.seq >= 5);
    history.stored[ROOM] = history.stored[ROOM].slice(0, 5);
    const report = check(history, { stallThresholdMs: 20 });
    expect(report.stalls).toContainEqual({ from: 45, to: 92, ms: 47, who: 'sub-b' });
  });

  it('reports latency per named window of publish time', () => {
    const history = cleanHistory(10);
    for (const d of history.deliveries) if (d.seq >= 5) d.at += 100;
    const report = check(history, { latencyWindows: [{ name: 'steady', from: 0, to: 50 }, { name: 'roll', from: 50, to: 100 }] });
    expect(report.latencyWindows['steady']).toEqual({ count: 10, p50: 5, p99: 5, max: 5 });
    expect(report.latencyWindows['roll']).toEqual({ count: 10, p50: 105, p99: 105, max: 105 });
  });
});

describe('unavailabilityWindows', () => {
  const attempt = (startedAt: number, endedAt: number, outcome: PublishAttempt['outcome']): PublishAttempt => ({
    roomId: ROOM,
    clientMsgId: `m-${startedAt}`,
    attempt: 1,
    startedAt,
    endedAt,
    outcome,
  });

  it('is empty when every attempt succeeded', () => {
    expect(unavailabilityWindows([attempt(0, 5, 'ok'), attempt(10, 15, 'ok')])).toEqual([]);
  });

  it('spans from the first failure to the end of the first success started after it', () => {
    const windows = unavailabilityWindows([
      attempt(0, 5, 'ok'),
      attempt(10, 12, 'unavailable'),
      attempt(11, 40, 'ok'), // started after the failure: closes the window when it ends
      attempt(15, 20, 'network'),
      attempt(25, 30, 'ok'), // ended first
      attempt(50, 52, 'ok'),
      attempt(60, 70, 'network'),
    ]);
    expect(windows).toEqual([
      { from: 10, to: 30, ms: 20 },
      { from: 60, to: 70, ms: 10 },
    ]);
  });

  it('does not let a request started before the failure close the window', () => {
    expect(unavailabilityWindows([attempt(0, 50, 'ok'), attempt(10, 12, 'network'), attempt(20, 25, 'ok')])).toEqual([{ from: 10, to: 25, ms: 15 }]);
  });
});

describe('summarize', () => {
  it('takes nearest-rank percentiles', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(summarize(values)).toEqual({ count: 100, p50: 50, p99: 99, max: 100 });
    expect(summarize([])).toEqual({ count: 0, p50: 0, p99: 0, max: 0 });
  });
});
