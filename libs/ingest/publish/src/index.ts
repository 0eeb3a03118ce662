// Public API of @seqcast/ingest-publish: the ingest HTTP API as one Nest module plus its HTTP setup.
export { configureIngestHttp, ingestHttpAdapter, type IngestHttpOptions } from './lib/configure-ingest-http';
export { IngestPublishModule } from './lib/ingest-publish.module';
export type { HostProvided, IngestPublishOptions } from './lib/ingest-publish.options';
