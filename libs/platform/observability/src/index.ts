export { HealthModule, type HealthModuleOptions } from './lib/health.module';
export { createLogger, logLevelsFrom } from './lib/logger';
export { MetricsModule } from './lib/metrics.module';
export { type ReadinessCheck, runReadinessChecks } from './lib/readiness-check';
export {
  FORCED_EXIT_CODE,
  installShutdownDeadline,
  type ShutdownDeadlineOptions,
  type SignalSource,
} from './lib/shutdown-deadline';
export {
  type ManagementServerOptions,
  type RunningManagementServer,
  startManagementServer,
} from './lib/management-server';
