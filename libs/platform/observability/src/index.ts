// Public API of @seqcast/observability.
