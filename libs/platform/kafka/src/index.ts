// Public API of @seqcast/kafka.
