// Public API of @seqcast/auth.
export { AuthError } from './lib/auth-error';
export type { Principal } from './lib/principal';
export { canAccessRoom, roomPatternMatches } from './lib/room-access';
export { bearerToken, signToken, TokenVerifier } from './lib/token';
