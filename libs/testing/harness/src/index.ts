// Public API of @seqcast/testing.
