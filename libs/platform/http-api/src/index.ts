// Public API of @seqcast/http-api: what every HTTP capability of Seqcast shares, so that one error
// filter and one authentication rule serve them all: ApiError (status, code, message for the
// client), the bearer/API-key guard, the caller it leaves and the module that holds its credentials
// checks once per process, request-part validation.
export { ApiError, RETRY_AFTER_SECONDS } from './lib/api-error';
export { API_KEY_HEADER, type AuthenticatedRequest, BearerAuthGuard, CurrentPrincipal } from './lib/bearer-auth.guard';
export { DEFAULT_API_KEY_CACHE_TTL_MS, type HttpAuthOptions, HttpAuthModule } from './lib/http-auth.module';
export { parseJsonBody, parseRequestPart } from './lib/request-validation';
export { parseRoomParam } from './lib/room-param';
