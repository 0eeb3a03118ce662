// Public API of @seqcast/ingest-publish.
