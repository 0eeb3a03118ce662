// Public API of @seqcast/auth.
export {
  API_KEY_PREFIX,
  ApiKeyAuthenticator,
  type ApiKeyAuthenticatorOptions,
  type ApiKeyRecord,
  type ApiKeyStore,
  generateApiKey,
  hashApiKey,
} from './lib/api-key';
export { AuthError } from './lib/auth-error';
export { CAPABILITIES, type Capability, type Grants, type Principal } from './lib/principal';
export { canAccessRoom, roomPatternMatches } from './lib/room-access';
export { bearerToken, type DevTokenClaims, signToken, TokenVerifier, type TokenVerifierOptions } from './lib/token';
