import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigValidationError } from './config-validation-error';
import { kafkaEnv } from './env-groups';
import { resolveKafkaSecurity } from './kafka-security';
import { parseEnv } from './parse-env';

const dir = mkdtempSync(join(tmpdir(), 'seqcast-kafka-security-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A self-signed certificate and its key (openssl is part of the toolchain, as for the broker tests). */
function selfSigned(name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
    '-subj', `/CN=${name}`, '-keyout', key, '-out', cert,
  ], { stdio: 'ignore' });
  return { cert, key };
}

const ca = selfSigned('ca');
const client = selfSigned('client');
const other = selfSigned('other');
const passwordFile = join(dir, 'password');
writeFileSync(passwordFile, 's3cret\n');
const notPem = join(dir, 'not.pem');
writeFileSync(notPem, 'hello');

function resolve(env: Record<string, string>, nodeEnv = 'development') {
  return resolveKafkaSecurity(nodeEnv, parseEnv(kafkaEnv, env));
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

describe('resolveKafkaSecurity', () => {
  it('is plaintext without auth by default, min.insync.replicas 1', () => {
    expect(resolve({})).toEqual({});
    expect(parseEnv(kafkaEnv, {}).SEQCAST_MIN_INSYNC_REPLICAS).toBe(1);
  });

  it('reads the CA, client certificate and key into PEM contents', () => {
    const settings = resolve({
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA_FILE: ca.cert,
      KAFKA_SSL_CERT_FILE: client.cert,
      KAFKA_SSL_KEY_FILE: client.key,
    });
    expect(settings.ssl?.rejectUnauthorized).toBe(true);
    expect(settings.ssl?.ca).toContain('BEGIN CERTIFICATE');
    expect(settings.ssl?.cert).toContain('BEGIN CERTIFICATE');
    expect(settings.ssl?.key).toContain('PRIVATE KEY');
    expect(settings.sasl).toBeUndefined();
  });

  it('uses public roots when TLS is on without a CA file (managed Kafka)', () => {
    expect(resolve({ KAFKA_SSL: 'true' })).toEqual({ ssl: { rejectUnauthorized: true } });
  });

  it('takes SCRAM credentials, the mechanism in any case, the password from a file without its newline', () => {
    expect(
      resolve({ KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512', KAFKA_SASL_USERNAME: 'seqcast', KAFKA_SASL_PASSWORD_FILE: passwordFile }),
    ).toEqual({ sasl: { mechanism: 'scram-sha-512', username: 'seqcast', password: 's3cret' } });
    expect(
      resolve({ KAFKA_SSL: 'true', KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' }, 'production'),
    ).toEqual({ ssl: { rejectUnauthorized: true }, sasl: { mechanism: 'plain', username: 'u', password: 'p' } });
  });

  it('names a missing or unreadable file', () => {
    expect(problems({ KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: join(dir, 'absent.crt') })).toEqual([
      `KAFKA_SSL_CA_FILE: cannot read ${join(dir, 'absent.crt')} (ENOENT)`,
    ]);
    expect(problems({ KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: notPem })).toEqual([
      `KAFKA_SSL_CA_FILE: ${notPem} is not a PEM certificate`,
    ]);
    expect(
      problems({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD_FILE: join(dir, 'nope') }),
    ).toEqual([`KAFKA_SASL_PASSWORD_FILE: cannot read ${join(dir, 'nope')} (ENOENT)`]);
  });

  it('refuses a certificate without its key, or a key that is not the certificate\'s', () => {
    expect(problems({ KAFKA_SSL: 'true', KAFKA_SSL_CERT_FILE: client.cert })).toEqual([
      'KAFKA_SSL_KEY_FILE: required with KAFKA_SSL_CERT_FILE (mutual TLS needs both)',
    ]);
    expect(problems({ KAFKA_SSL: 'true', KAFKA_SSL_KEY_FILE: client.key })).toEqual([
      'KAFKA_SSL_CERT_FILE: required with KAFKA_SSL_KEY_FILE (mutual TLS needs both)',
    ]);
    expect(problems({ KAFKA_SSL: 'true', KAFKA_SSL_CERT_FILE: client.cert, KAFKA_SSL_KEY_FILE: other.key })).toEqual([
      'KAFKA_SSL_KEY_FILE: the key does not belong to the certificate in KAFKA_SSL_CERT_FILE',
    ]);
    expect(problems({ KAFKA_SSL: 'true', KAFKA_SSL_CERT_FILE: client.cert, KAFKA_SSL_KEY_FILE: notPem })).toEqual([
      `KAFKA_SSL_KEY_FILE: ${notPem} is not an unencrypted PEM private key`,
    ]);
  });

  it('refuses TLS settings without KAFKA_SSL=true, so nobody believes they encrypt when they do not', () => {
    expect(problems({ KAFKA_SSL_CA_FILE: ca.cert, KAFKA_SSL_REJECT_UNAUTHORIZED: 'false' })).toEqual([
      'KAFKA_SSL_CA_FILE, KAFKA_SSL_REJECT_UNAUTHORIZED: only apply when KAFKA_SSL=true',
    ]);
  });

  it('allows skipping certificate verification only outside production', () => {
    expect(resolve({ KAFKA_SSL: 'true', KAFKA_SSL_REJECT_UNAUTHORIZED: 'false' })).toEqual({ ssl: { rejectUnauthorized: false } });
    expect(problems({ KAFKA_SSL: 'true', KAFKA_SSL_REJECT_UNAUTHORIZED: 'false' }, 'production')[0]).toMatch(
      /^KAFKA_SSL_REJECT_UNAUTHORIZED: must not be false when NODE_ENV=production/,
    );
  });

  it('requires a username and exactly one password source with a SASL mechanism', () => {
    expect(problems({ KAFKA_SASL_MECHANISM: 'scram-sha-256' })).toEqual([
      'KAFKA_SASL_USERNAME: required when KAFKA_SASL_MECHANISM=scram-sha-256',
      'KAFKA_SASL_PASSWORD: required when KAFKA_SASL_MECHANISM=scram-sha-256 (or KAFKA_SASL_PASSWORD_FILE)',
    ]);
    expect(
      problems({
        KAFKA_SASL_MECHANISM: 'plain',
        KAFKA_SASL_USERNAME: 'u',
        KAFKA_SASL_PASSWORD: 'p',
        KAFKA_SASL_PASSWORD_FILE: passwordFile,
      }),
    ).toEqual(['KAFKA_SASL_PASSWORD, KAFKA_SASL_PASSWORD_FILE: set one, not both']);
    expect(problems({ KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' })).toEqual([
      'KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD: only apply when KAFKA_SASL_MECHANISM is set',
    ]);
  });

  it('rejects an unknown mechanism at parse time, naming the choices', () => {
    expect(() => parseEnv(kafkaEnv, { KAFKA_SASL_MECHANISM: 'gssapi' })).toThrow(
      'KAFKA_SASL_MECHANISM: must be one of plain, scram-sha-256, scram-sha-512 (or unset for no SASL)',
    );
  });

  it('refuses PLAIN over plaintext in production (the password would cross the network in clear)', () => {
    expect(
      problems({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' }, 'production'),
    ).toEqual(['KAFKA_SASL_MECHANISM: plain sends the password in clear text; set KAFKA_SSL=true when NODE_ENV=production']);
  });

  it('refuses min.insync.replicas above the replication factor', () => {
    expect(problems({ SEQCAST_REPLICATION_FACTOR: '3', SEQCAST_MIN_INSYNC_REPLICAS: '4' })[0]).toMatch(
      /^SEQCAST_MIN_INSYNC_REPLICAS: must not exceed SEQCAST_REPLICATION_FACTOR \(4 > 3\)/,
    );
    expect(resolve({ SEQCAST_REPLICATION_FACTOR: '3', SEQCAST_MIN_INSYNC_REPLICAS: '2' })).toEqual({});
  });
});
