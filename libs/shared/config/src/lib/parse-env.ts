import { z } from 'zod';
import { ConfigValidationError } from './config-validation-error';

function describeIssue(issue: z.ZodIssue): string {
  const name = issue.path.join('.') || '(env)';
  const missing = issue.code === z.ZodIssueCode.invalid_type && issue.received === 'undefined';
  return `${name}: ${missing ? 'is required' : issue.message}`;
}

/**
 * Validates the environment against `shape`, collecting every bad variable before failing so an
 * operator fixes them all in one pass rather than one restart per typo.
 */
export function parseEnv<S extends z.ZodRawShape>(
  shape: S,
  env: Record<string, string | undefined> = process.env,
): z.infer<z.ZodObject<S>> {
  const result = z.object(shape).safeParse(env);
  if (result.success) return result.data;
  throw new ConfigValidationError(result.error.issues.map(describeIssue));
}

/** Service entry points call this so a bad config ends the process with a readable list, not a stack trace. */
export function loadConfigOrExit<T>(service: string, load: () => T): T {
  try {
    return load();
  } catch (error) {
    if (!(error instanceof ConfigValidationError)) throw error;
    process.stderr.write(`${service}: invalid configuration:\n${error.problems.map((p) => `  - ${p}\n`).join('')}`);
    return process.exit(1);
  }
}
