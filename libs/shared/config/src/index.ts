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
export {
  type Env,
  ENV_GROUPS,
  type EnvGroup,
  envGroup,
  envProblemsOf,
  envShapeOf,
  forcedExitMsOf,
} from './lib/service-env-groups';
export {
  CONSUMER_GROUP_TIMEOUT_DEFAULTS,
  type ConsumerGroupTimeouts,
  consumerGroupTimeoutProblems,
} from './lib/services/consumer-group';
export { INGEST_MAX_BODY_CEILING, ingestApiEnv } from './lib/services/ingest-api';
export { orderingWorkerEnv, orderingWorkerEnvProblems } from './lib/services/ordering-worker';
export {
  DRAIN_DISCONNECT_GRACE_MS,
  edgeGatewayEnv,
  edgeGatewayEnvProblems,
  edgeGatewayShutdownTimeoutMs,
  SHUTDOWN_MARGIN_MS,
} from './lib/services/edge-gateway';
