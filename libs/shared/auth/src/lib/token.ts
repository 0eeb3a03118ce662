import { createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { AuthError } from './auth-error';
import type { Principal } from './principal';

// Pinned: accepting whatever `alg` the token names is the classic JWT hole (`none`, or an RS public
// key replayed as an HMAC secret).
const ALGORITHM = 'HS256' as const;
const DEFAULT_EXPIRES_IN_SECONDS = 3600;

export class TokenVerifier {
  /**
   * Given a string, jsonwebtoken first tries to parse it as a PEM public key and only falls back to
   * a secret key when that throws: about 1 ms per verification, the largest CPU cost of a gateway
   * reconnect storm. Made once here instead.
   */
  private readonly key: KeyObject;

  constructor(secret: string) {
    if (!secret) throw new Error('TokenVerifier needs a non-empty secret');
    this.key = createSecretKey(Buffer.from(secret, 'utf8'));
  }

  verify(token: string | undefined): Principal {
    if (!token) throw new AuthError('missing bearer token');
    let claims: string | jwt.JwtPayload;
    try {
      claims = jwt.verify(token, this.key, { algorithms: [ALGORITHM] });
    } catch (error) {
      if (error instanceof jwt.TokenExpiredError) throw new AuthError('token expired');
      if (error instanceof jwt.NotBeforeError) throw new AuthError('token not yet valid');
      throw new AuthError('invalid token');
    }
    return principalFrom(claims);
  }
}

function principalFrom(claims: string | jwt.JwtPayload): Principal {
  if (typeof claims === 'string') throw new AuthError('invalid token claims: payload must be a JSON object');
  const problems: string[] = [];
  const { sub, exp } = claims;
  const rooms: unknown = claims['rooms'];
  if (typeof sub !== 'string' || sub === '') problems.push('sub must be a non-empty string');
  if (!Array.isArray(rooms) || !rooms.every((room): room is string => typeof room === 'string')) {
    problems.push('rooms must be an array of strings');
  }
  if (typeof exp !== 'number') problems.push('exp is required');
  if (problems.length > 0) throw new AuthError(`invalid token claims: ${problems.join('; ')}`);
  return { userId: sub as string, roomPatterns: [...(rooms as string[])], expiresAt: new Date((exp as number) * 1000) };
}

/** Mints a token the verifier accepts; for dev tools and tests (production tokens come from the identity provider). */
export function signToken(claims: { sub: string; rooms: string[]; expiresInSeconds?: number }, secret: string): string {
  return jwt.sign({ rooms: claims.rooms }, secret, {
    algorithm: ALGORITHM,
    subject: claims.sub,
    expiresIn: claims.expiresInSeconds ?? DEFAULT_EXPIRES_IN_SECONDS,
  });
}

/** The token from an `Authorization: Bearer <token>` header, or undefined if the header is absent or malformed. */
export function bearerToken(authorizationHeader: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorizationHeader ?? '');
  return match?.[1];
}
