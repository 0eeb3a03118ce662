// Moved to @seqcast/publish-core (the gateway's socket publish shares the limiter); this path keeps publish's imports stable.
export { RateLimitStore } from '@seqcast/publish-core';
