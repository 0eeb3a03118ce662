import { ConsoleLogger, type LogLevel, type LoggerService } from '@nestjs/common';

const ORDER: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

/** Levels at or above `level` (Nest's names): `warn` → fatal, error, warn. */
export function logLevelsFrom(level: string): LogLevel[] {
  const index = ORDER.indexOf(level as LogLevel);
  return ORDER.slice(0, index === -1 ? ORDER.indexOf('log') + 1 : index + 1);
}

/**
 * One JSON object per line (Nest's own ConsoleLogger in json mode): what log shippers parse and
 * what an operator can grep at 3 a.m. `service` is stamped into every line's context.
 */
export function createLogger(service: string, level: string): LoggerService {
  return new ConsoleLogger(service, { json: true, colors: false, logLevels: logLevelsFrom(level) });
}
