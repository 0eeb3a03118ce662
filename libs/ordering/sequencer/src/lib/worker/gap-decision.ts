/**
 * What to do with a batch that starts above the partition's stored position, once offsets deleted
 * by retention are accounted for. Usually Kafka's committed offset is ahead of the stored position
 * (lost courtesy commit, restored database): seek back. If the same gap comes back right after such
 * a seek, those offsets do not exist (retention, or non-data records) and are passed over.
 */
export interface GapSeek {
  /** The position sought back to. */
  to: number;
  /** Where the batch after that seek started. */
  landedAt: number;
}

export type GapDecision = { action: 'pass-over' } | { action: 'seek'; seek: GapSeek };

export function decideGap(position: number, firstOffset: number, lastSeek: GapSeek | undefined): GapDecision {
  if (lastSeek && lastSeek.to === position && lastSeek.landedAt === firstOffset) return { action: 'pass-over' };
  return { action: 'seek', seek: { to: position, landedAt: firstOffset } };
}
