// Moved to @seqcast/http-api (shared with the history capability); this path keeps publish's imports stable.
export { parseRoomParam } from '@seqcast/http-api';
