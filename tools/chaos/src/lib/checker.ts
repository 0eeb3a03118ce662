/**
 * The Jepsen-style checker: pure logic over a recorded History (history.ts), no I/O, so every
 * anomaly it knows is unit-tested on hand-made histories.
 *
 * Assumptions the recorder guarantees: rooms are fresh for the run, and every subscriber subscribed
 * its rooms before the first publish, so each of them must see every stored message of its rooms.
 */
import type { Delivery, History, PublishAttempt, StoredMessage } from './history';

export interface CheckOptions {
  /** A pause between two deliveries to one subscriber longer than this, while publishes were being accepted, is a stall. */
  stallThresholdMs?: number;
  /** Named time ranges (by acknowledged publish time) to report delivery latency for, e.g. steady state vs a roll. */
  latencyWindows?: { name: string; from: number; to: number }[];
}

export interface LostMessage {
  roomId: string;
  clientMsgId: string;
  /** `not-in-history`: acknowledged (202) but the history API does not have it. `not-delivered`: stored, never handed to `subscriber`. */
  reason: 'not-in-history' | 'not-delivered';
  subscriber?: string;
  acknowledged: boolean;
}

export interface DuplicateDelivery {
  /** A subscriber's name, or `history` for one clientMsgId stored under two seqs. */
  where: string;
  roomId: string;
  clientMsgId: string;
  seqs: number[];
}

export interface Reorder {
  subscriber: string;
  roomId: string;
  /** The seq delivered after `afterSeq` although it is lower. */
  seq: number;
  afterSeq: number;
}

export interface SeqDisagreement {
  roomId: string;
  /** What disagrees, e.g. `sub-a vs history` */
  between: string;
  detail: string;
}

export interface Phantom {
  where: string;
  roomId: string;
  clientMsgId: string;
  seq: number;
}

export interface TimeWindow {
  from: number;
  to: number;
  ms: number;
  /** The subscriber for a stall window. */
  who?: string;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

export interface CheckReport {
  attemptedMessages: number;
  publishAttempts: number;
  acknowledged: number;
  /** Attempted, never acknowledged (the publisher gave up): allowed to be missing, or present. */
  unacknowledged: number;
  stored: number;
  lost: LostMessage[];
  duplicates: DuplicateDelivery[];
  reorders: Reorder[];
  seqDisagreements: SeqDisagreement[];
  phantoms: Phantom[];
  /** Informational: messages the gateway sent more than once before the SDK's dedupe. */
  rawDuplicates: number;
  /** Informational: places where the SDK handed over a message whose prevSeq is not the previous seq (it gave up healing). */
  chainBreaks: number;
  unavailability: TimeWindow[];
  stalls: TimeWindow[];
  latency: LatencySummary;
  latencyWindows: Record<string, LatencySummary>;
  /** No loss, no duplicate, no reorder, no disagreement, no phantom. Windows are measured, not judged. */
  ok: boolean;
}

const key = (roomId: string, clientMsgId: string) => `${roomId}\u0000${clientMsgId}`;

export function check(history: History, options: CheckOptions = {}): CheckReport {
  const stallThresholdMs = options.stallThresholdMs ?? 1000;

  const attempts = new Map<string, PublishAttempt[]>();
  for (const attempt of history.publishes) {
    const k = key(attempt.roomId, attempt.clientMsgId);
    const list = attempts.get(k) ?? [];
    list.push(attempt);
    attempts.set(k, list);
  }
  const acknowledgedAt = new Map<string, number>();
  for (const [k, list] of attempts) {
    const ok = list.filter((a) => a.outcome === 'ok').sort((a, b) => a.startedAt - b.startedAt)[0];
    if (ok) acknowledgedAt.set(k, ok.startedAt);
  }

  const storedByKey = new Map<string, StoredMessage[]>();
  const storedBySeq = new Map<string, StoredMessage>();
  let stored = 0;
  for (const [roomId, messages] of Object.entries(history.stored)) {
    for (const m of messages) {
      stored++;
      const k = key(roomId, m.clientMsgId);
      storedByKey.set(k, [...(storedByKey.get(k) ?? []), m]);
      storedBySeq.set(`${roomId}\u0000${m.seq}`, m);
    }
  }

  const lost: LostMessage[] = [];
  const duplicates: DuplicateDelivery[] = [];
  const phantoms: Phantom[] = [];
  const seqDisagreements: SeqDisagreement[] = [];

  for (const k of acknowledgedAt.keys()) {
    if (!storedByKey.has(k)) {
      const [roomId, clientMsgId] = k.split('\u0000');
      lost.push({ roomId, clientMsgId, reason: 'not-in-history', acknowledged: true });
    }
  }
  for (const [k, copies] of storedByKey) {
    const [roomId, clientMsgId] = k.split('\u0000');
    if (copies.length > 1) duplicates.push({ where: 'history', roomId, clientMsgId, seqs: copies.map((c) => c.seq) });
    if (!attempts.has(k)) for (const c of copies) phantoms.push({ where: 'history', roomId, clientMsgId, seq: c.seq });
  }

  // Per subscriber and layer, in arrival order.
  const bySubscriber = new Map<string, Delivery[]>();
  for (const d of history.deliveries) {
    const k = `${d.subscriber}\u0000${d.layer}`;
    bySubscriber.set(k, [...(bySubscriber.get(k) ?? []), d]);
  }
  for (const list of bySubscriber.values()) list.sort((a, b) => a.at - b.at);

  let rawDuplicates = 0;
  for (const subscriber of history.subscribers) {
    const raw = bySubscriber.get(`${subscriber.name}\u0000raw`) ?? [];
    const seenRaw = new Set<string>();
    for (const d of raw) {
      const k = `${d.roomId}\u0000${d.seq}`;
      if (seenRaw.has(k)) rawDuplicates++;
      seenRaw.add(k);
    }
  }

  // Who said which seq carries which message: history first, then each subscriber.
  const seqOwner = new Map<string, { clientMsgId: string; who: string }>();
  for (const m of storedBySeq.values()) seqOwner.set(`${m.roomId}\u0000${m.seq}`, { clientMsgId: m.clientMsgId, who: 'history' });

  const reorders: Reorder[] = [];
  let chainBreaks = 0;
  const disagreementSeen = new Set<string>();
  const disagree = (roomId: string, between: string, detail: string) => {
    const k = `${roomId}\u0000${between}\u0000${detail}`;
    if (disagreementSeen.has(k)) return;
    disagreementSeen.add(k);
    seqDisagreements.push({ roomId, between, detail });
  };

  const deliveredTo = new Map<string, Set<string>>();
  for (const subscriber of history.subscribers) {
    const delivered = new Set<string>();
    deliveredTo.set(subscriber.name, delivered);
    const layers = ['app', 'raw'] as const;
    for (const layer of layers) {
      const list = bySubscriber.get(`${subscriber.name}\u0000${layer}`) ?? [];
      for (const d of list) {
        const k = key(d.roomId, d.clientMsgId);
        if (!attempts.has(k)) phantoms.push({ where: `${subscriber.name}/${layer}`, roomId: d.roomId, clientMsgId: d.clientMsgId, seq: d.seq });
        const storedCopy = storedBySeq.get(`${d.roomId}\u0000${d.seq}`);
        if (storedCopy && (storedCopy.clientMsgId !== d.clientMsgId || storedCopy.prevSeq !== d.prevSeq)) {
          disagree(
            d.roomId,
            `${subscriber.name} vs history`,
            `seq ${d.seq}: delivered ${d.clientMsgId} (prevSeq ${d.prevSeq}), history has ${storedCopy.clientMsgId} (prevSeq ${storedCopy.prevSeq})`,
          );
        } else if (!storedCopy && storedByKey.has(k)) {
          disagree(d.roomId, `${subscriber.name} vs history`, `${d.clientMsgId} delivered as seq ${d.seq}, history has seq ${storedByKey.get(k)?.map((m) => m.seq).join('/')}`);
        }
        const owner = seqOwner.get(`${d.roomId}\u0000${d.seq}`);
        if (!owner) seqOwner.set(`${d.roomId}\u0000${d.seq}`, { clientMsgId: d.clientMsgId, who: subscriber.name });
        else if (owner.who !== 'history' && owner.who !== subscriber.name && owner.clientMsgId !== d.clientMsgId) {
          disagree(d.roomId, `${owner.who} vs ${subscriber.name}`, `seq ${d.seq}: ${owner.clientMsgId} vs ${d.clientMsgId}`);
        }
      }
    }

    const app = bySubscriber.get(`${subscriber.name}\u0000app`) ?? [];
    const lastSeq = new Map<string, number>();
    const seqsOfId = new Map<string, Set<number>>();
    const seenSeq = new Set<string>();
    for (const d of app) {
      const seqKey = `${d.roomId}\u0000${d.seq}`;
      const k = key(d.roomId, d.clientMsgId);
      delivered.add(k);
      const seqs = seqsOfId.get(k) ?? new Set<number>();
      seqs.add(d.seq);
      seqsOfId.set(k, seqs);
      if (seenSeq.has(seqKey)) {
        duplicates.push({ where: subscriber.name, roomId: d.roomId, clientMsgId: d.clientMsgId, seqs: [d.seq, d.seq] });
        continue;
      }
      seenSeq.add(seqKey);
      const last = lastSeq.get(d.roomId);
      if (last !== undefined && d.seq < last) {
        reorders.push({ subscriber: subscriber.name, roomId: d.roomId, seq: d.seq, afterSeq: last });
      } else {
        if (last !== undefined && d.prevSeq !== last) chainBreaks++;
        lastSeq.set(d.roomId, d.seq);
      }
    }
    for (const [k, seqs] of seqsOfId) {
      // The same message under two seqs reached the app twice; a history duplicate already says why.
      if (seqs.size > 1) {
        const [roomId, clientMsgId] = k.split('\u0000');
        duplicates.push({ where: subscriber.name, roomId, clientMsgId, seqs: [...seqs] });
      }
    }

    for (const roomId of subscriber.rooms) {
      for (const m of history.stored[roomId] ?? []) {
        const k = key(roomId, m.clientMsgId);
        if (!delivered.has(k)) {
          lost.push({ roomId, clientMsgId: m.clientMsgId, reason: 'not-delivered', subscriber: subscriber.name, acknowledged: acknowledgedAt.has(k) });
        }
      }
    }
  }

  // Delivery latency: acknowledged publish (the 202 attempt's start) to the app, first delivery only.
  const latencies: { publishedAt: number; ms: number }[] = [];
  for (const subscriber of history.subscribers) {
    const seen = new Set<string>();
    for (const d of bySubscriber.get(`${subscriber.name}\u0000app`) ?? []) {
      const k = key(d.roomId, d.clientMsgId);
      const publishedAt = acknowledgedAt.get(k);
      if (publishedAt === undefined || seen.has(k)) continue;
      seen.add(k);
      latencies.push({ publishedAt, ms: Math.max(0, d.at - publishedAt) });
    }
  }
  const latencyWindows: Record<string, LatencySummary> = {};
  for (const w of options.latencyWindows ?? []) {
    latencyWindows[w.name] = summarize(latencies.filter((l) => l.publishedAt >= w.from && l.publishedAt < w.to).map((l) => l.ms));
  }

  const lastAck = Math.max(...history.publishes.filter((a) => a.outcome === 'ok').map((a) => a.endedAt), -Infinity);
  const firstAck = Math.min(...history.publishes.filter((a) => a.outcome === 'ok').map((a) => a.startedAt), Infinity);
  const stalls: TimeWindow[] = [];
  for (const subscriber of history.subscribers) {
    const times = (bySubscriber.get(`${subscriber.name}\u0000app`) ?? []).map((d) => d.at);
    let previous = firstAck;
    for (const at of times) {
      if (previous < lastAck && at - previous > stallThresholdMs) stalls.push({ from: previous, to: at, ms: at - previous, who: subscriber.name });
      previous = Math.max(previous, at);
    }
    // Publishes kept being accepted but this subscriber got nothing more until the end.
    if (Number.isFinite(lastAck) && lastAck - previous > stallThresholdMs) {
      stalls.push({ from: previous, to: lastAck, ms: lastAck - previous, who: subscriber.name });
    }
  }

  const acknowledged = acknowledgedAt.size;
  const report: CheckReport = {
    attemptedMessages: attempts.size,
    publishAttempts: history.publishes.length,
    acknowledged,
    unacknowledged: attempts.size - acknowledged,
    stored,
    lost,
    duplicates,
    reorders,
    seqDisagreements,
    phantoms,
    rawDuplicates,
    chainBreaks,
    unavailability: unavailabilityWindows(history.publishes),
    stalls,
    latency: summarize(latencies.map((l) => l.ms)),
    latencyWindows,
    ok: false,
  };
  report.ok =
    lost.length === 0 && duplicates.length === 0 && reorders.length === 0 && seqDisagreements.length === 0 && phantoms.length === 0;
  return report;
}

/**
 * From the first failed attempt (its start) to the end of the first acknowledged attempt that
 * started after it: how long a publisher could not get a message accepted.
 */
export function unavailabilityWindows(publishes: readonly PublishAttempt[]): TimeWindow[] {
  const sorted = [...publishes].sort((a, b) => a.startedAt - b.startedAt || a.endedAt - b.endedAt);
  const windows: TimeWindow[] = [];
  let openedAt: number | undefined;
  let closesAt: number | undefined;
  for (const attempt of sorted) {
    if (openedAt === undefined) {
      if (attempt.outcome !== 'ok') openedAt = attempt.startedAt;
      continue;
    }
    if (attempt.outcome === 'ok' && attempt.startedAt >= openedAt) {
      closesAt = closesAt === undefined ? attempt.endedAt : Math.min(closesAt, attempt.endedAt);
    }
    // Attempts are walked by start: once one starts after the earliest success ended, the window is over.
    if (closesAt !== undefined && attempt.startedAt >= closesAt) {
      windows.push({ from: openedAt, to: closesAt, ms: closesAt - openedAt });
      openedAt = attempt.outcome !== 'ok' ? attempt.startedAt : undefined;
      closesAt = undefined;
    }
  }
  if (openedAt !== undefined) {
    const end = closesAt ?? Math.max(...sorted.map((a) => a.endedAt));
    windows.push({ from: openedAt, to: end, ms: end - openedAt });
  }
  return windows;
}

export function summarize(values: readonly number[]): LatencySummary {
  if (values.length === 0) return { count: 0, p50: 0, p99: 0, max: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  return { count: sorted.length, p50: Math.round(at(0.5)), p99: Math.round(at(0.99)), max: Math.round(sorted[sorted.length - 1]) };
}
