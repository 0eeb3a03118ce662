// Public API of @seqcast/room-partitioner.
export { murmur2, toPositive } from './lib/murmur2';
export { partitionForRoom } from './lib/room-partitioner';
