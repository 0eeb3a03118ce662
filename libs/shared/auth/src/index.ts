// Public API of @seqcast/auth.
