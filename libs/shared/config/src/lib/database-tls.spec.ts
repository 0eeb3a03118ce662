import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConfigValidationError } from './config-validation-error';
import { resolveDatabaseTls } from './database-tls';
import { databaseEnv } from './env-groups';
import { parseEnv } from './parse-env';

const dir = mkdtempSync(join(tmpdir(), 'seqcast-database-tls-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ca = { cert: join(dir, 'ca.crt') };
execFileSync('openssl', [
  'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
  '-subj', '/CN=db-ca', '-keyout', join(dir, 'ca.key'), '-out', ca.cert,
], { stdio: 'ignore' });

describe('resolveDatabaseTls', () => {
  function resolveDb(env: Record<string, string>) {
    return resolveDatabaseTls(parseEnv(databaseEnv, env));
  }

  function dbProblems(env: Record<string, string>): string[] {
    try {
      resolveDb(env);
    } catch (error) {
      return (error as ConfigValidationError).problems;
    }
    throw new Error('expected a ConfigValidationError');
  }

  it('is disabled by default and reads the CA for the verifying modes', () => {
    expect(resolveDb({})).toEqual({ mode: 'disable' });
    expect(resolveDb({ DATABASE_SSL: 'require' })).toEqual({ mode: 'require' });
    const verified = resolveDb({ DATABASE_SSL: 'VERIFY-FULL', DATABASE_SSL_CA_FILE: ca.cert });
    expect(verified.mode).toBe('verify-full');
    expect(verified.ca).toContain('BEGIN CERTIFICATE');
  });

  it('names a bad mode, an unreadable CA, or a CA without TLS', () => {
    expect(() => parseEnv(databaseEnv, { DATABASE_SSL: 'prefer' })).toThrow(
      'DATABASE_SSL: must be one of disable, require, verify-full (got "prefer")',
    );
    expect(dbProblems({ DATABASE_SSL: 'verify-full', DATABASE_SSL_CA_FILE: join(dir, 'absent.crt') })).toEqual([
      `DATABASE_SSL_CA_FILE: cannot read ${join(dir, 'absent.crt')} (ENOENT)`,
    ]);
    expect(dbProblems({ DATABASE_SSL_CA_FILE: ca.cert })).toEqual([
      'DATABASE_SSL_CA_FILE: only applies when DATABASE_SSL is require or verify-full',
    ]);
  });

  it('refuses TLS both in the URL and in DATABASE_SSL, since the URL would silently win', () => {
    expect(dbProblems({ DATABASE_URL: 'postgres://u@db/x?sslmode=disable', DATABASE_SSL: 'verify-full' })).toEqual([
      'DATABASE_URL: carries sslmode, which would override DATABASE_SSL; configure TLS in one place (remove them from the URL)',
    ]);
    expect(resolveDb({ DATABASE_URL: 'postgres://u@db/x?sslmode=require' })).toEqual({ mode: 'disable' });
  });
});
