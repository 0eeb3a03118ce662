import type { Message } from '@seqcast/contracts';

export interface DeliveryReport {
  expected: number;
  received: number;
  /** Expected messages never received. */
  lost: number;
  /** Received more than once (by seq). */
  duplicates: number;
  /** Received but not in the expected list (e.g. from before the cursor). */
  unexpected: number;
  /** Places where seq did not increase or prevSeq did not name the previous message. */
  orderBreaks: number;
}

/**
 * Compares what a client received for one room with the truth (the room's history from
 * PostgreSQL, cut to what the client should have got). `firstPrevSeq` is what the first received
 * message must chain to (the client's starting cursor; null for the room's very first message).
 */
export function checkDelivery(received: readonly Message[], expected: readonly Message[], firstPrevSeq?: number | null): DeliveryReport {
  const expectedSeqs = new Set(expected.map((m) => m.seq));
  const seen = new Set<number>();
  let duplicates = 0;
  let unexpected = 0;
  let orderBreaks = 0;
  received.forEach((m, i) => {
    if (seen.has(m.seq)) duplicates++;
    seen.add(m.seq);
    if (!expectedSeqs.has(m.seq)) unexpected++;
    if (i === 0) {
      if (firstPrevSeq !== undefined && m.prevSeq !== firstPrevSeq) orderBreaks++;
    } else if (m.seq <= received[i - 1].seq || m.prevSeq !== received[i - 1].seq) {
      orderBreaks++;
    }
  });
  const lost = expected.filter((m) => !seen.has(m.seq)).length;
  return { expected: expected.length, received: received.length, lost, duplicates, unexpected, orderBreaks };
}

/** Sums reports (several rooms or clients) for one summary line. */
export function sumReports(reports: readonly DeliveryReport[]): DeliveryReport {
  const total: DeliveryReport = { expected: 0, received: 0, lost: 0, duplicates: 0, unexpected: 0, orderBreaks: 0 };
  for (const r of reports) for (const key of Object.keys(total) as (keyof DeliveryReport)[]) total[key] += r[key];
  return total;
}

export const CLEAN = { lost: 0, duplicates: 0, unexpected: 0, orderBreaks: 0 };
