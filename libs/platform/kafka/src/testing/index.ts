// Test support of @seqcast/kafka (`@seqcast/kafka/testing`): a client on the test broker and topic
// helpers for integration tests. Tests only.
export * from './kafka-test-support.int';
