// Public API of @seqcast/config.
export {
  ASYMMETRIC_JWT_ALGORITHMS,
  type AsymmetricJwtAlgorithm,
  type AuthSettings,
  type JwtKeySource,
  resolveAuthSettings,
} from './lib/auth-settings';
export { ConfigValidationError } from './lib/config-validation-error';
export { envField } from './lib/env-field';
export { authEnv, commonEnv, databaseEnv, DEV_JWT_SECRET, kafkaEnv, resolveJwtSecret } from './lib/env-groups';
export { loadConfigOrExit, parseEnv } from './lib/parse-env';
export { ANY_ORIGIN, isOriginAllowed, originsEnv, resolveAllowedOrigins } from './lib/origins';
export { managementEnv } from './lib/management';
