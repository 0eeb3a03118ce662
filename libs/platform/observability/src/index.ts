export { HealthModule, type HealthModuleOptions } from './lib/health.module';
export { createLogger, logLevelsFrom } from './lib/logger';
export { MetricsModule } from './lib/metrics.module';
export { type ReadinessCheck, runReadinessChecks } from './lib/readiness-check';
