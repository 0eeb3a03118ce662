import { createHmac, createPublicKey, type KeyObject } from 'node:crypto';
import type { AuthSettings, JwtKeySource } from '@seqcast/config';
import { createRemoteJWKSet, errors, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { LRUCache } from 'lru-cache';
import { AuthError } from './auth-error';
import { principalFromClaims } from './claims';
import type { Principal } from './principal';

const DEFAULT_EXPIRES_IN_SECONDS = 3600;
/**
 * A cached verification is trusted at most this long even if the token lives longer, so a key
 * removed from the JWKS (or a changed secret) stops working for cached tokens within this bound.
 */
const MAX_CACHE_TTL_MS = 5 * 60_000;

export interface TokenVerifierOptions extends Partial<Omit<AuthSettings, 'keySource'>> {
  keySource: JwtKeySource;
  /** JWKS: how long fetched keys are reused, and the minimum gap between refetches on an unknown `kid`. */
  jwks?: { cacheMaxAgeMs?: number; cooldownMs?: number; timeoutMs?: number };
  /** Milliseconds clock for exp/nbf checks and the cache (tests). */
  now?: () => number;
}

type VerificationKey = Uint8Array | KeyObject | JWTVerifyGetKey;

/**
 * Verifies bearer tokens with `jose`, pinned to the algorithms of the configured key source
 * (accepting whatever `alg` the token names is the classic JWT hole: `none`, or an RS public key
 * replayed as an HMAC secret). A bounded LRU of verified tokens, keyed by the token and never
 * kept past its `exp`, spares a client that publishes one message per request a signature
 * verification each time.
 */
export class TokenVerifier {
  private readonly key: VerificationKey;
  private readonly algorithms: string[];
  private readonly cache: LRUCache<string, Principal> | undefined;
  private readonly now: () => number;

  constructor(private readonly options: TokenVerifierOptions) {
    const source = options.keySource;
    if (source.kind === 'secret') {
      if (!source.secret) throw new Error('TokenVerifier needs a non-empty secret');
      this.key = new TextEncoder().encode(source.secret);
      this.algorithms = ['HS256'];
    } else if (source.kind === 'pem') {
      this.key = createPublicKey(source.pem);
      this.algorithms = [...source.algorithms];
    } else {
      this.key = createRemoteJWKSet(new URL(source.url), {
        cacheMaxAge: options.jwks?.cacheMaxAgeMs ?? 10 * 60_000,
        cooldownDuration: options.jwks?.cooldownMs ?? 30_000,
        timeoutDuration: options.jwks?.timeoutMs ?? 5_000,
      });
      this.algorithms = [...source.algorithms];
    }
    this.now = options.now ?? Date.now;
    const size = options.tokenCacheSize ?? 10_000;
    this.cache = size > 0 ? new LRUCache<string, Principal>({ max: size, perf: { now: this.now } }) : undefined;
  }

  /** An HS256 verifier (development and tests). */
  static withSecret(secret: string, options: Partial<Omit<TokenVerifierOptions, 'keySource'>> = {}): TokenVerifier {
    return new TokenVerifier({ ...options, keySource: { kind: 'secret', secret } });
  }

  async verify(token: string | undefined): Promise<Principal> {
    if (!token) throw new AuthError('missing bearer token');
    const cached = this.cache?.get(token);
    if (cached && (cached.expiresAt?.getTime() ?? 0) > this.now()) return cached;

    let payload: Record<string, unknown>;
    try {
      const result = await jwtVerify(token, this.key as Uint8Array, {
        algorithms: this.algorithms,
        issuer: this.options.issuer,
        audience: this.options.audience,
        clockTolerance: this.options.clockToleranceSeconds ?? 30,
        currentDate: this.options.now ? new Date(this.now()) : undefined,
      });
      payload = result.payload;
    } catch (error) {
      throw authErrorFor(error);
    }
    const principal = principalFromClaims(payload);
    const ttl = Math.min((principal.expiresAt?.getTime() ?? 0) - this.now(), MAX_CACHE_TTL_MS);
    if (this.cache && ttl > 0) this.cache.set(token, principal, { ttl });
    return principal;
  }
}

function authErrorFor(error: unknown): AuthError {
  if (error instanceof errors.JWTExpired) return new AuthError('token expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf') return new AuthError('token not yet valid');
    if (error.claim === 'iss') return new AuthError('token issuer not accepted');
    if (error.claim === 'aud') return new AuthError('token audience not accepted');
    return new AuthError(`invalid token claims: ${error.claim} is invalid`);
  }
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) {
    return new AuthError('signing keys unavailable');
  }
  if (error instanceof errors.JOSEError) return new AuthError('invalid token');
  // Anything else is the JWKS fetch failing (connection refused, DNS, a non-200 answer): still the
  // client's 401, but said plainly so whoever reads it looks at the key source, not the token.
  return new AuthError('signing keys unavailable');
}

export interface DevTokenClaims {
  sub: string;
  /** v1 claim: all three capabilities. */
  rooms?: string[];
  publish?: string[];
  subscribe?: string[];
  history?: string[];
  iss?: string;
  aud?: string | string[];
  expiresInSeconds?: number;
}

/**
 * Mints an HS256 token the secret verifier accepts; for dev tools and tests (production tokens
 * come from the identity provider). Synchronous on purpose so test fixtures can be constants.
 */
export function signToken(claims: DevTokenClaims, secret: string): string {
  const { expiresInSeconds, ...rest } = claims;
  const iat = Math.floor(Date.now() / 1000);
  const payload = { ...rest, iat, exp: iat + (expiresInSeconds ?? DEFAULT_EXPIRES_IN_SECONDS) };
  const encode = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const signingInput = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode(payload)}`;
  return `${signingInput}.${createHmac('sha256', secret).update(signingInput).digest('base64url')}`;
}

/** The token from an `Authorization: Bearer <token>` header, or undefined if the header is absent or malformed. */
export function bearerToken(authorizationHeader: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorizationHeader ?? '');
  return match?.[1];
}
