export {
  isConfigurationError,
  kafkaLoggerFor,
  openPlatformResources,
  type OpenPlatformResourcesOptions,
  type PlatformResources,
} from './lib/platform-resources';
export {
  DATA_SOURCE,
  dataSourceFromPlatform,
  KAFKA,
  KAFKA_ADMIN,
  kafkaFromPlatform,
  platformReadinessChecks,
  PlatformResourcesModule,
} from './lib/platform-resources.module';
export { serveStartupProbes, STARTUP_RETRY_AFTER_SECONDS, type StartupProbes } from './lib/startup-probes';
export { bootstrapService, type ServiceBootstrap, type ServiceRuntimeConfig } from './lib/bootstrap-service';
