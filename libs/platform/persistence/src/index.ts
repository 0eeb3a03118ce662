// Public API of @seqcast/persistence.
