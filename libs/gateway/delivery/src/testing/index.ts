// Test support of @seqcast/gateway-delivery (`@seqcast/gateway-delivery/testing`): in-memory history and
// fixtures for unit tests, and the gateway composed in-process for integration tests. Tests only.
export * from './gateway-harness.int';
export * from './test-support';
