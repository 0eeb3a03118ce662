/**
 * The browser origins allowed to call the HTTP API and open gateway sockets (SEQCAST_ALLOWED_ORIGINS),
 * one list for both services. Requests without an `Origin` header (servers, native apps, curl) are
 * not browsers and are never refused for it; a browser's request from any other origin is.
 */
import { ConfigValidationError } from './config-validation-error';
import { envField } from './env-field';

export const ANY_ORIGIN = '*';

const ORIGIN = /^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/;

export const originsEnv = {
  /** Comma-separated `scheme://host[:port]`; `*` (any) only outside production. Unset: `*` in development/test, none in production. */
  SEQCAST_ALLOWED_ORIGINS: envField.string(),
};

/**
 * Development is permissive so local tools and demos work from any page; production must name its
 * origins, because `*` lets any web page a logged-in user visits act with that user's token.
 */
export function resolveAllowedOrigins(nodeEnv: string, raw: string | undefined): string[] {
  const items = (raw ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  if (items.length === 0) return nodeEnv === 'production' ? [] : [ANY_ORIGIN];
  const problems: string[] = [];
  if (items.includes(ANY_ORIGIN) && nodeEnv === 'production') {
    problems.push('SEQCAST_ALLOWED_ORIGINS: `*` is not allowed when NODE_ENV=production; list the origins');
  }
  const bad = items.filter((item) => item !== ANY_ORIGIN && !ORIGIN.test(item));
  if (bad.length > 0) {
    problems.push(
      `SEQCAST_ALLOWED_ORIGINS: each entry must be scheme://host[:port] without a path (got ${JSON.stringify(bad.slice(0, 3))})`,
    );
  }
  if (problems.length > 0) throw new ConfigValidationError(problems);
  return items;
}

/** No Origin header: not a browser, allowed. Otherwise an exact (case-insensitive) match or `*`. */
export function isOriginAllowed(origin: string | undefined, allowed: readonly string[]): boolean {
  if (origin === undefined || origin === '') return true;
  const wanted = origin.toLowerCase();
  return allowed.some((entry) => entry === ANY_ORIGIN || entry.toLowerCase() === wanted);
}
