/**
 * CPU per token verification, the cost every publish and handshake pays: v1's jsonwebtoken HS256,
 * jose per algorithm without the cache, and a cache hit. Prints µs per verification.
 *   node tools/auth-bench/run.cjs [iterations]
 */
import { generateKeyPairSync } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { signToken, TokenVerifier } from '@seqcast/auth';
import { SignJWT } from 'jose';
import jwt from 'jsonwebtoken';

const N = Number(process.argv[2] ?? 20_000);
const SECRET = 'bench-secret-0123456789abcdef0123456789';

async function time(label: string, fn: () => unknown | Promise<unknown>): Promise<void> {
  for (let i = 0; i < Math.min(N, 2_000); i++) await fn(); // warm-up
  const started = performance.now();
  for (let i = 0; i < N; i++) await fn();
  const us = ((performance.now() - started) * 1000) / N;
  console.log(`${label.padEnd(48)} ${us.toFixed(1).padStart(8)} µs/verification`);
}

async function main(): Promise<void> {
  const hsToken = signToken({ sub: 'alice', rooms: ['team-1:*'] }, SECRET);
  console.log(`node ${process.version}, ${N} verifications each\n`);
  await time('v1: jsonwebtoken HS256 (every request)', () => jwt.verify(hsToken, SECRET, { algorithms: ['HS256'] }));
  const uncached = TokenVerifier.withSecret(SECRET, { tokenCacheSize: 0 });
  await time('jose HS256, no cache', () => uncached.verify(hsToken));
  for (const [alg, type, options] of [
    ['RS256', 'rsa', { modulusLength: 2048 }],
    ['ES256', 'ec', { namedCurve: 'P-256' }],
    ['EdDSA', 'ed25519', {}],
  ] as const) {
    const { privateKey, publicKey } = generateKeyPairSync(type as 'rsa', options as { modulusLength: number });
    const token = await new SignJWT({ rooms: ['team-1:*'] }).setProtectedHeader({ alg }).setSubject('alice').setExpirationTime('1h').sign(privateKey);
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const verifier = new TokenVerifier({ keySource: { kind: 'pem', file: '-', pem, algorithms: [alg] }, tokenCacheSize: 0 });
    await time(`jose ${alg}, no cache`, () => verifier.verify(token));
    const cached = new TokenVerifier({ keySource: { kind: 'pem', file: '-', pem, algorithms: [alg] } });
    await time(`jose ${alg}, cache hit (same token again)`, () => cached.verify(token));
  }
  const cached = TokenVerifier.withSecret(SECRET);
  await time('jose HS256, cache hit (same token again)', () => cached.verify(hsToken));
}

void main();
