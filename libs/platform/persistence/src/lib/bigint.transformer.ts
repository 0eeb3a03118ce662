import type { ValueTransformer } from 'typeorm';

/**
 * node-postgres returns int8 as a string to avoid precision loss. Seqs and offsets are Kafka
 * offsets, exact as JS numbers up to 2^53 - 1 (see NO_SEQ in contracts), so the entities expose
 * numbers and fail loudly rather than round if a value is ever out of that range.
 */
export const bigintToNumber: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null): number | null => {
    if (value === null || value === undefined) return null;
    const parsed = typeof value === 'number' ? value : Number(value);
    if (!Number.isSafeInteger(parsed)) {
      throw new RangeError(`bigint column value ${String(value)} is not a safe integer`);
    }
    return parsed;
  },
};
