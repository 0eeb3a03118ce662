// Test support of @seqcast/ingest-publish (`@seqcast/ingest-publish/testing`): the ingest API composed
// as apps/ingest-api composes it, started in-process. Tests only.
export * from './ingest-service.int';
