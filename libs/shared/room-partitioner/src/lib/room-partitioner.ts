import { murmur2, toPositive } from './murmur2';

const utf8 = new TextEncoder();

/**
 * The partition that owns a room: the same one Kafka's Java default partitioner picks for the key
 * `roomId`, so every message of a room lands on one partition and is ordered there.
 */
export function partitionForRoom(roomId: string, partitions: number): number {
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new RangeError(`partitions must be a positive integer (got ${partitions})`);
  }
  return toPositive(murmur2(utf8.encode(roomId))) % partitions;
}
