import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit, Optional } from '@nestjs/common';
import { type Clock, Publisher, type PublisherOptions, type RecordProducer, type StoredSeqReader } from '@seqcast/publish-core';
import { INGEST_CLOCK, INGEST_PUBLISH_OPTIONS, RECORD_PRODUCER, STORED_SEQ_READER } from './ingest-publish.options';

/**
 * The ingest API's handle on the shared write path (@seqcast/publish-core's Publisher, which the
 * gateway's socket `publish` event uses too). On shutdown the producer is disconnected only after
 * IngestDrain saw every request answered.
 */
@Injectable()
export class PublishService extends Publisher implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(RECORD_PRODUCER) producer: RecordProducer,
    @Inject(INGEST_PUBLISH_OPTIONS) options: PublisherOptions,
    @Inject(INGEST_CLOCK) clock: Clock,
    @Optional() @Inject(STORED_SEQ_READER) seqReader?: StoredSeqReader,
  ) {
    super(producer, options, clock, seqReader);
  }

  async onModuleInit(): Promise<void> {
    await this.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop();
  }
}
