// Test support of @seqcast/ordering-sequencer (`@seqcast/ordering-sequencer/testing`): the worker
// composed as apps/ordering-worker composes it, and each test's database, topics and group. Tests only.
export * from './worker-service.int';
