// Public API of @seqcast/kafka.
export { Kafka } from 'kafkajs';
export type { Admin, Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs';
export {
  createKafka,
  KAFKA_CLIENTS,
  type KafkaClientKind,
  type KafkaLogger,
  type KafkaSasl,
  type KafkaSettings,
  type KafkaTls,
  securityOptions,
} from './lib/kafka-client';
export { fixKafkajsRequestQueue } from './lib/kafkajs-request-queue';
export { explainKafkaConfigurationError, KafkaConfigurationError } from './lib/kafka-configuration-error';
export { KafkaUnavailableError, TopicMismatchError } from './lib/kafka-errors';
export { RoomProducer, type ProducedRecord, type RoomProducerOptions, type RoomRecord } from './lib/room-producer';
export { ensureTopics, fetchCommittedOffsets, fetchLogEndOffsets, probeKafka, type TopicSpec } from './lib/topics';
export {
  type ConsumerStatus,
  DEFAULT_GROUP_TIMEOUTS,
  type GroupTimeouts,
  groupTimeoutProblems,
  type ResilientConsumerOptions,
} from './lib/consumer-lifecycle';
export { ResilientConsumer } from './lib/resilient-consumer';
export { createResilientConsumer, type GroupConsumer } from './lib/group-consumer';
export { PlatformaticConsumer } from './lib/platformatic-consumer';
