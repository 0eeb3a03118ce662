/** Shared by in-process tests and the processes e2e tests start, so tokens minted here verify there. */
export const TEST_JWT_SECRET = 'seqcast-test-secret';
