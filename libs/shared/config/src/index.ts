// Public API of @seqcast/config.
