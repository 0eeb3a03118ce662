// Public API of @seqcast/config.
export {
  ASYMMETRIC_JWT_ALGORITHMS,
  type AsymmetricJwtAlgorithm,
  type AuthSettings,
  type JwtKeySource,
  resolveAuthSettings,
} from './lib/auth-settings';
export {
  DATABASE_SSL_MODES,
  type DatabaseSslMode,
  type DatabaseTlsSettings,
  databaseTlsEnv,
  resolveDatabaseTls,
} from './lib/database-tls';
export { ConfigValidationError } from './lib/config-validation-error';
export { envField } from './lib/env-field';
export { authEnv, commonEnv, databaseEnv, DEV_JWT_SECRET, kafkaEnv, resolveJwtSecret } from './lib/env-groups';
export {
  KAFKA_SASL_MECHANISMS,
  type KafkaSaslMechanism,
  type KafkaSaslSettings,
  type KafkaSecuritySettings,
  type KafkaTlsSettings,
  kafkaSecurityEnv,
  type RawKafkaSecurityEnv,
  resolveKafkaSecurity,
} from './lib/kafka-security';
export { loadConfigOrExit, parseEnv } from './lib/parse-env';
export { ANY_ORIGIN, isOriginAllowed, originsEnv, resolveAllowedOrigins } from './lib/origins';
export { managementEnv } from './lib/management';
