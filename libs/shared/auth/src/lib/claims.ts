import { AuthError } from './auth-error';
import { CAPABILITIES, type Grants, type Principal } from './principal';

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

/**
 * A verified JWT payload as a principal. `rooms` (the v1 claim) grants all three capabilities;
 * `publish`, `subscribe` and `history` grant one each, and the two forms add up. Every problem is
 * named at once so whoever mints the tokens fixes them in one go.
 */
export function principalFromClaims(claims: Record<string, unknown>): Principal {
  const problems: string[] = [];
  const { sub, exp } = claims;
  if (typeof sub !== 'string' || sub === '') problems.push('sub must be a non-empty string');
  const grantClaims = ['rooms', ...CAPABILITIES] as const;
  const present = grantClaims.filter((name) => claims[name] !== undefined);
  if (present.length === 0) problems.push('rooms (or publish, subscribe, history) must be an array of strings');
  for (const name of present) {
    if (!isStringArray(claims[name])) problems.push(`${name} must be an array of strings`);
  }
  if (typeof exp !== 'number') problems.push('exp is required');
  if (problems.length > 0) throw new AuthError(`invalid token claims: ${problems.join('; ')}`);
  const rooms = (claims['rooms'] as string[] | undefined) ?? [];
  const grants = {} as Grants;
  for (const capability of CAPABILITIES) {
    grants[capability] = [...rooms, ...((claims[capability] as string[] | undefined) ?? [])];
  }
  return { userId: sub as string, kind: 'token', grants, expiresAt: new Date((exp as number) * 1000) };
}
