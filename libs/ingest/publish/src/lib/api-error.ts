// Moved to @seqcast/http-api (shared with the history capability); this path keeps publish's imports stable.
export { ApiError, RETRY_AFTER_SECONDS } from '@seqcast/http-api';
