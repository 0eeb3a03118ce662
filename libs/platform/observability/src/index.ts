export { HealthModule, type HealthModuleOptions } from './lib/health.module';
export { createLogger, logLevelsFrom } from './lib/logger';
export { type ReadinessCheck, runReadinessChecks } from './lib/readiness-check';
