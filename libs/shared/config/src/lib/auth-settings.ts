/**
 * How the services verify credentials, resolved from the auth env group at start-up so a bad key
 * source fails the process with a line naming the variable instead of a 401 on every request.
 */
import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigValidationError } from './config-validation-error';
import { resolveJwtSecret } from './env-groups';

/** Asymmetric algorithms a JWKS or PEM key may sign with; HS256 is only for the shared secret. */
export const ASYMMETRIC_JWT_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'] as const;
export type AsymmetricJwtAlgorithm = (typeof ASYMMETRIC_JWT_ALGORITHMS)[number];

export type JwtKeySource =
  | { kind: 'secret'; secret: string }
  | { kind: 'jwks'; url: string; algorithms: AsymmetricJwtAlgorithm[] }
  | { kind: 'pem'; file: string; pem: string; algorithms: AsymmetricJwtAlgorithm[] };

export interface AuthSettings {
  keySource: JwtKeySource;
  /** Required `iss` when set. */
  issuer?: string;
  /** Accepted `aud` values when set (the token must name at least one). */
  audience?: string[];
  /** Leeway on exp/nbf/iat for clocks that disagree a little. */
  clockToleranceSeconds: number;
  /** Verified tokens kept in memory (0: verify every request). */
  tokenCacheSize: number;
}

/** The raw values of the auth env group (see authEnv). */
export interface RawAuthEnv {
  SEQCAST_JWT_SECRET?: string;
  SEQCAST_JWT_JWKS_URL?: string;
  SEQCAST_JWT_PUBLIC_KEY_FILE?: string;
  SEQCAST_JWT_ALGORITHMS?: string[];
  SEQCAST_JWT_ISSUER?: string;
  SEQCAST_JWT_AUDIENCE?: string[];
  SEQCAST_JWT_CLOCK_TOLERANCE_S: number;
  SEQCAST_AUTH_TOKEN_CACHE_SIZE: number;
}

const KEY_SOURCE_VARS = ['SEQCAST_JWT_SECRET', 'SEQCAST_JWT_JWKS_URL', 'SEQCAST_JWT_PUBLIC_KEY_FILE'] as const;

/** Throws ConfigValidationError listing every problem (each line starts with the variable's name). */
export function resolveAuthSettings(nodeEnv: string, raw: RawAuthEnv): AuthSettings {
  const problems: string[] = [];
  const set = KEY_SOURCE_VARS.filter((name) => raw[name]?.trim());
  if (set.length > 1) {
    problems.push(`${set.join(', ')}: set exactly one key source, not ${set.length}`);
  }
  const algorithms = asymmetricAlgorithms(raw.SEQCAST_JWT_ALGORITHMS, problems);
  if (raw.SEQCAST_JWT_ALGORITHMS && set[0] !== 'SEQCAST_JWT_JWKS_URL' && set[0] !== 'SEQCAST_JWT_PUBLIC_KEY_FILE') {
    problems.push('SEQCAST_JWT_ALGORITHMS: only applies to SEQCAST_JWT_JWKS_URL or SEQCAST_JWT_PUBLIC_KEY_FILE');
  }
  let keySource: JwtKeySource | undefined;
  if (set.length <= 1) {
    if (set[0] === 'SEQCAST_JWT_JWKS_URL') keySource = jwksSource(raw.SEQCAST_JWT_JWKS_URL as string, nodeEnv, algorithms, problems);
    else if (set[0] === 'SEQCAST_JWT_PUBLIC_KEY_FILE') keySource = pemSource(raw.SEQCAST_JWT_PUBLIC_KEY_FILE as string, algorithms, problems);
    else {
      try {
        keySource = { kind: 'secret', secret: resolveJwtSecret(nodeEnv, raw.SEQCAST_JWT_SECRET) };
      } catch (error) {
        if (!(error instanceof ConfigValidationError)) throw error;
        problems.push(
          set.length === 0 && nodeEnv === 'production'
            ? `${KEY_SOURCE_VARS.join(' | ')}: one key source is required when NODE_ENV=production`
            : error.problems.join('; '),
        );
      }
    }
  }
  if (problems.length > 0 || !keySource) throw new ConfigValidationError(problems);
  return {
    keySource,
    issuer: raw.SEQCAST_JWT_ISSUER?.trim() || undefined,
    audience: raw.SEQCAST_JWT_AUDIENCE,
    clockToleranceSeconds: raw.SEQCAST_JWT_CLOCK_TOLERANCE_S,
    tokenCacheSize: raw.SEQCAST_AUTH_TOKEN_CACHE_SIZE,
  };
}

function asymmetricAlgorithms(values: string[] | undefined, problems: string[]): AsymmetricJwtAlgorithm[] | undefined {
  if (!values) return undefined;
  const unknown = values.filter((v) => !(ASYMMETRIC_JWT_ALGORITHMS as readonly string[]).includes(v));
  if (unknown.length > 0) {
    problems.push(`SEQCAST_JWT_ALGORITHMS: must be a list of ${ASYMMETRIC_JWT_ALGORITHMS.join(', ')} (got ${JSON.stringify(unknown.join(','))})`);
  }
  return values as AsymmetricJwtAlgorithm[];
}

function jwksSource(
  url: string,
  nodeEnv: string,
  algorithms: AsymmetricJwtAlgorithm[] | undefined,
  problems: string[],
): JwtKeySource | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    problems.push(`SEQCAST_JWT_JWKS_URL: must be an http(s) URL (got ${JSON.stringify(url.slice(0, 60))})`);
    return undefined;
  }
  // Keys fetched over plain HTTP can be swapped by anyone on the path; allow it only off production.
  const allowed = nodeEnv === 'production' ? ['https:'] : ['https:', 'http:'];
  if (!allowed.includes(parsed.protocol)) {
    problems.push(`SEQCAST_JWT_JWKS_URL: must be an ${nodeEnv === 'production' ? 'https' : 'http(s)'} URL when NODE_ENV=${nodeEnv}`);
    return undefined;
  }
  return { kind: 'jwks', url: parsed.toString(), algorithms: algorithms ?? [...ASYMMETRIC_JWT_ALGORITHMS] };
}

function pemSource(file: string, algorithms: AsymmetricJwtAlgorithm[] | undefined, problems: string[]): JwtKeySource | undefined {
  let pem: string;
  try {
    pem = readFileSync(file.trim(), 'utf8');
  } catch (error) {
    problems.push(`SEQCAST_JWT_PUBLIC_KEY_FILE: cannot read ${file.trim()} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    return undefined;
  }
  let algorithm: AsymmetricJwtAlgorithm | undefined;
  try {
    const key = createPublicKey(pem);
    const type = key.asymmetricKeyType;
    if (type === 'rsa') algorithm = 'RS256';
    else if (type === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') algorithm = 'ES256';
    else if (type === 'ed25519') algorithm = 'EdDSA';
  } catch {
    problems.push(`SEQCAST_JWT_PUBLIC_KEY_FILE: ${file.trim()} is not a PEM public key or certificate`);
    return undefined;
  }
  if (!algorithm) {
    problems.push(`SEQCAST_JWT_PUBLIC_KEY_FILE: key type not supported (use RSA, EC P-256 or Ed25519)`);
    return undefined;
  }
  if (algorithms && !algorithms.includes(algorithm)) {
    problems.push(`SEQCAST_JWT_ALGORITHMS: does not include ${algorithm}, the only algorithm the key in SEQCAST_JWT_PUBLIC_KEY_FILE can verify`);
    return undefined;
  }
  return { kind: 'pem', file: file.trim(), pem, algorithms: [algorithm] };
}
