// Public API of @seqcast/room-partitioner.
