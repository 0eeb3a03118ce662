// Moved to @seqcast/http-api (shared with the history capability); this path keeps publish's imports stable.
export { API_KEY_HEADER, type AuthenticatedRequest, BearerAuthGuard, CurrentPrincipal } from '@seqcast/http-api';
