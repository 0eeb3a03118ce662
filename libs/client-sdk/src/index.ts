// Public API of @seqcast/client.
