import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveAuthSettings } from './auth-settings';
import { ConfigValidationError } from './config-validation-error';
import { authEnv } from './env-groups';
import { parseEnv } from './parse-env';

const dir = mkdtempSync(join(tmpdir(), 'seqcast-auth-settings-'));
function pemFile(name: string, type: 'rsa' | 'ec' | 'ed25519' | 'x25519', options: object = {}): string {
  const { publicKey } = generateKeyPairSync(type as 'rsa', { modulusLength: 2048, ...options });
  const file = join(dir, name);
  writeFileSync(file, publicKey.export({ type: 'spki', format: 'pem' }));
  return file;
}

function resolve(env: Record<string, string>, nodeEnv = 'development') {
  return resolveAuthSettings(nodeEnv, parseEnv(authEnv, env));
}

function problems(env: Record<string, string>, nodeEnv = 'development'): string[] {
  try {
    resolve(env, nodeEnv);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigValidationError);
    return (error as ConfigValidationError).problems;
  }
  throw new Error('expected a ConfigValidationError');
}

describe('resolveAuthSettings', () => {
  it('uses the development secret by default, with a 30 s leeway and a token cache', () => {
    expect(resolve({})).toEqual({
      keySource: { kind: 'secret', secret: 'seqcast-dev-secret-do-not-use-in-production' },
      issuer: undefined,
      audience: undefined,
      clockToleranceSeconds: 30,
      tokenCacheSize: 10_000,
    });
  });

  it('takes a JWKS URL with issuer, audience and algorithms', () => {
    expect(
      resolve(
        {
          SEQCAST_JWT_JWKS_URL: 'https://idp.example/.well-known/jwks.json',
          SEQCAST_JWT_ISSUER: 'https://idp.example/',
          SEQCAST_JWT_AUDIENCE: 'seqcast,seqcast-admin',
          SEQCAST_JWT_ALGORITHMS: 'RS256,ES256',
          SEQCAST_JWT_CLOCK_TOLERANCE_S: '5',
        },
        'production',
      ),
    ).toEqual({
      keySource: { kind: 'jwks', url: 'https://idp.example/.well-known/jwks.json', algorithms: ['RS256', 'ES256'] },
      issuer: 'https://idp.example/',
      audience: ['seqcast', 'seqcast-admin'],
      clockToleranceSeconds: 5,
      tokenCacheSize: 10_000,
    });
  });

  it.each([
    ['rsa', {}, 'RS256'],
    ['ec', { namedCurve: 'P-256' }, 'ES256'],
    ['ed25519', {}, 'EdDSA'],
  ] as const)('reads a %s PEM public key and pins its algorithm', (type, options, algorithm) => {
    const file = pemFile(`${type}.pem`, type, options);
    const settings = resolve({ SEQCAST_JWT_PUBLIC_KEY_FILE: file }, 'production');
    expect(settings.keySource).toMatchObject({ kind: 'pem', file, algorithms: [algorithm] });
  });

  it('names the variables when more than one key source is set', () => {
    expect(problems({ SEQCAST_JWT_SECRET: 's', SEQCAST_JWT_JWKS_URL: 'https://idp.example/jwks' })).toEqual([
      'SEQCAST_JWT_SECRET, SEQCAST_JWT_JWKS_URL: set exactly one key source, not 2',
    ]);
  });

  it('requires a key source in production and refuses the development secret there', () => {
    expect(problems({}, 'production')).toEqual([
      'SEQCAST_JWT_SECRET | SEQCAST_JWT_JWKS_URL | SEQCAST_JWT_PUBLIC_KEY_FILE: one key source is required when NODE_ENV=production',
    ]);
    expect(problems({ SEQCAST_JWT_SECRET: 'seqcast-dev-secret-do-not-use-in-production' }, 'production')[0]).toMatch(
      /^SEQCAST_JWT_SECRET: must not be the published development secret/,
    );
  });

  it('explains bad key sources', () => {
    expect(problems({ SEQCAST_JWT_JWKS_URL: 'not a url' })[0]).toMatch(/^SEQCAST_JWT_JWKS_URL: must be an http\(s\) URL/);
    expect(problems({ SEQCAST_JWT_JWKS_URL: 'http://idp.example/jwks' }, 'production')).toEqual([
      'SEQCAST_JWT_JWKS_URL: must be an https URL when NODE_ENV=production',
    ]);
    expect(problems({ SEQCAST_JWT_PUBLIC_KEY_FILE: join(dir, 'missing.pem') })).toEqual([
      `SEQCAST_JWT_PUBLIC_KEY_FILE: cannot read ${join(dir, 'missing.pem')} (ENOENT)`,
    ]);
    const garbage = join(dir, 'garbage.pem');
    writeFileSync(garbage, 'hello');
    expect(problems({ SEQCAST_JWT_PUBLIC_KEY_FILE: garbage })[0]).toMatch(/is not a PEM public key or certificate$/);
    expect(problems({ SEQCAST_JWT_PUBLIC_KEY_FILE: pemFile('x25519.pem', 'x25519') })[0]).toMatch(/key type not supported/);
    expect(
      problems({ SEQCAST_JWT_PUBLIC_KEY_FILE: pemFile('rsa2.pem', 'rsa'), SEQCAST_JWT_ALGORITHMS: 'ES256' })[0],
    ).toMatch(/^SEQCAST_JWT_ALGORITHMS: does not include RS256/);
    expect(problems({ SEQCAST_JWT_JWKS_URL: 'https://idp.example/j', SEQCAST_JWT_ALGORITHMS: 'HS256,RS256' })[0]).toMatch(
      /^SEQCAST_JWT_ALGORITHMS: must be a list of RS256, ES256, EdDSA/,
    );
    expect(problems({ SEQCAST_JWT_ALGORITHMS: 'RS256' })[0]).toMatch(/^SEQCAST_JWT_ALGORITHMS: only applies to/);
  });
});
