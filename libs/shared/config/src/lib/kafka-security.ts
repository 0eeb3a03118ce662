/**
 * How services reach a secured Kafka (TLS, SASL) and how durable the topics they create are,
 * resolved from the kafka env group at start-up. Certificate, key and password files are read here,
 * once, so a missing file or a half-configured combination fails the process with a line naming
 * the variable instead of a broker connection that retries forever.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigValidationError } from './config-validation-error';
import { envField } from './env-field';

export const KAFKA_SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
export type KafkaSaslMechanism = (typeof KAFKA_SASL_MECHANISMS)[number];

/** Spread into kafkaEnv: every service that talks to Kafka reads these. */
export const kafkaSecurityEnv = {
  KAFKA_SSL: envField.bool(false),
  /** PEM CA bundle that signed the brokers' certificates; unset: Node's public roots (managed Kafka). */
  KAFKA_SSL_CA_FILE: envField.string(),
  /** PEM client certificate and unencrypted key for brokers that require mutual TLS (both or neither). */
  KAFKA_SSL_CERT_FILE: envField.string(),
  KAFKA_SSL_KEY_FILE: envField.string(),
  /** false skips verifying the brokers' certificates; refused when NODE_ENV=production. */
  KAFKA_SSL_REJECT_UNAUTHORIZED: envField.bool(true),
  /** plain | scram-sha-256 | scram-sha-512; unset: no SASL. */
  KAFKA_SASL_MECHANISM: envField
    .string()
    .refine(
      (value) => value === undefined || (KAFKA_SASL_MECHANISMS as readonly string[]).includes(value.toLowerCase()),
      `must be one of ${KAFKA_SASL_MECHANISMS.join(', ')} (or unset for no SASL)`,
    ),
  KAFKA_SASL_USERNAME: envField.string(),
  KAFKA_SASL_PASSWORD: envField.string(),
  /** Alternative to KAFKA_SASL_PASSWORD: a mounted secret file (a trailing newline is ignored). */
  KAFKA_SASL_PASSWORD_FILE: envField.string(),
  // Applied to topics a service creates and compared with existing ones; with acks=all a write
  // succeeds only once this many replicas have it. 1 suits a single dev broker; production uses 2 of 3.
  SEQCAST_MIN_INSYNC_REPLICAS: envField.int({ default: 1, min: 1, max: 32 }),
};

export interface KafkaTlsSettings {
  /** PEM contents, not paths (read at start-up). */
  ca?: string;
  cert?: string;
  key?: string;
  rejectUnauthorized: boolean;
}

export interface KafkaSaslSettings {
  mechanism: KafkaSaslMechanism;
  username: string;
  /** Never log it. */
  password: string;
}

/** What createKafka needs beyond brokers and client id; both absent means plaintext, no auth. */
export interface KafkaSecuritySettings {
  ssl?: KafkaTlsSettings;
  sasl?: KafkaSaslSettings;
}

/** The raw values of the security part of the kafka env group (see kafkaSecurityEnv). */
export interface RawKafkaSecurityEnv {
  KAFKA_SSL: boolean;
  KAFKA_SSL_CA_FILE?: string;
  KAFKA_SSL_CERT_FILE?: string;
  KAFKA_SSL_KEY_FILE?: string;
  KAFKA_SSL_REJECT_UNAUTHORIZED: boolean;
  KAFKA_SASL_MECHANISM?: string;
  KAFKA_SASL_USERNAME?: string;
  KAFKA_SASL_PASSWORD?: string;
  KAFKA_SASL_PASSWORD_FILE?: string;
  SEQCAST_REPLICATION_FACTOR: number;
  SEQCAST_MIN_INSYNC_REPLICAS: number;
}

/** Reads a file named by `variable`, or records a problem naming it. */
export function readConfigFile(variable: string, file: string, problems: string[]): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    problems.push(`${variable}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    return undefined;
  }
}

/** A PEM that Node can use as a CA bundle or certificate, or a problem naming the variable. */
export function readCertificateFile(variable: string, file: string, problems: string[]): string | undefined {
  const pem = readConfigFile(variable, file, problems);
  if (pem === undefined) return undefined;
  try {
    new X509Certificate(pem);
    return pem;
  } catch {
    problems.push(`${variable}: ${file} is not a PEM certificate`);
    return undefined;
  }
}

/**
 * Throws ConfigValidationError listing every problem (each line starts with the variable's name).
 * Settings that only apply to TLS or SASL are refused without it: a CA file next to KAFKA_SSL=false
 * means the operator expected encryption they would not get.
 */
export function resolveKafkaSecurity(nodeEnv: string, raw: RawKafkaSecurityEnv): KafkaSecuritySettings {
  const problems: string[] = [];
  const ssl = resolveTls(nodeEnv, raw, problems);
  const sasl = resolveSasl(nodeEnv, raw, ssl !== undefined, problems);
  if (raw.SEQCAST_MIN_INSYNC_REPLICAS > raw.SEQCAST_REPLICATION_FACTOR) {
    problems.push(
      `SEQCAST_MIN_INSYNC_REPLICAS: must not exceed SEQCAST_REPLICATION_FACTOR (${raw.SEQCAST_MIN_INSYNC_REPLICAS} > ` +
        `${raw.SEQCAST_REPLICATION_FACTOR}): every acks=all write would be refused`,
    );
  }
  if (problems.length > 0) throw new ConfigValidationError(problems);
  return { ...(ssl ? { ssl } : {}), ...(sasl ? { sasl } : {}) };
}

function resolveTls(nodeEnv: string, raw: RawKafkaSecurityEnv, problems: string[]): KafkaTlsSettings | undefined {
  const ca = raw.KAFKA_SSL_CA_FILE?.trim();
  const cert = raw.KAFKA_SSL_CERT_FILE?.trim();
  const key = raw.KAFKA_SSL_KEY_FILE?.trim();
  if (!raw.KAFKA_SSL) {
    const tlsOnly = [
      ...(ca ? ['KAFKA_SSL_CA_FILE'] : []),
      ...(cert ? ['KAFKA_SSL_CERT_FILE'] : []),
      ...(key ? ['KAFKA_SSL_KEY_FILE'] : []),
      ...(raw.KAFKA_SSL_REJECT_UNAUTHORIZED ? [] : ['KAFKA_SSL_REJECT_UNAUTHORIZED']),
    ];
    if (tlsOnly.length > 0) problems.push(`${tlsOnly.join(', ')}: only apply when KAFKA_SSL=true`);
    return undefined;
  }
  if (!raw.KAFKA_SSL_REJECT_UNAUTHORIZED && nodeEnv === 'production') {
    problems.push(
      'KAFKA_SSL_REJECT_UNAUTHORIZED: must not be false when NODE_ENV=production (anyone on the path could ' +
        'impersonate the brokers); give the brokers\' CA in KAFKA_SSL_CA_FILE instead',
    );
  }
  if (cert && !key) problems.push('KAFKA_SSL_KEY_FILE: required with KAFKA_SSL_CERT_FILE (mutual TLS needs both)');
  if (key && !cert) problems.push('KAFKA_SSL_CERT_FILE: required with KAFKA_SSL_KEY_FILE (mutual TLS needs both)');
  const settings: KafkaTlsSettings = { rejectUnauthorized: raw.KAFKA_SSL_REJECT_UNAUTHORIZED };
  if (ca) settings.ca = readCertificateFile('KAFKA_SSL_CA_FILE', ca, problems);
  if (cert && key) {
    const certPem = readCertificateFile('KAFKA_SSL_CERT_FILE', cert, problems);
    const keyPem = readConfigFile('KAFKA_SSL_KEY_FILE', key, problems);
    if (certPem !== undefined && keyPem !== undefined && clientKeyMatches(certPem, keyPem, key, problems)) {
      settings.cert = certPem;
      settings.key = keyPem;
    }
  }
  return settings;
}

/** The key must parse (unencrypted PEM) and belong to the certificate, or TLS fails with an opaque error later. */
function clientKeyMatches(certPem: string, keyPem: string, keyFile: string, problems: string[]): boolean {
  let privateKey;
  try {
    privateKey = createPrivateKey(keyPem);
  } catch {
    problems.push(`KAFKA_SSL_KEY_FILE: ${keyFile} is not an unencrypted PEM private key`);
    return false;
  }
  if (!new X509Certificate(certPem).checkPrivateKey(privateKey)) {
    problems.push('KAFKA_SSL_KEY_FILE: the key does not belong to the certificate in KAFKA_SSL_CERT_FILE');
    return false;
  }
  return true;
}

function resolveSasl(
  nodeEnv: string,
  raw: RawKafkaSecurityEnv,
  tls: boolean,
  problems: string[],
): KafkaSaslSettings | undefined {
  const mechanism = raw.KAFKA_SASL_MECHANISM?.trim().toLowerCase() as KafkaSaslMechanism | undefined;
  const username = raw.KAFKA_SASL_USERNAME?.trim();
  const password = raw.KAFKA_SASL_PASSWORD;
  const passwordFile = raw.KAFKA_SASL_PASSWORD_FILE?.trim();
  if (!mechanism) {
    const saslOnly = [
      ...(username ? ['KAFKA_SASL_USERNAME'] : []),
      ...(password ? ['KAFKA_SASL_PASSWORD'] : []),
      ...(passwordFile ? ['KAFKA_SASL_PASSWORD_FILE'] : []),
    ];
    if (saslOnly.length > 0) problems.push(`${saslOnly.join(', ')}: only apply when KAFKA_SASL_MECHANISM is set`);
    return undefined;
  }
  if (mechanism === 'plain' && !tls && nodeEnv === 'production') {
    problems.push('KAFKA_SASL_MECHANISM: plain sends the password in clear text; set KAFKA_SSL=true when NODE_ENV=production');
  }
  if (!username) problems.push(`KAFKA_SASL_USERNAME: required when KAFKA_SASL_MECHANISM=${mechanism}`);
  let secret: string | undefined;
  if (password && passwordFile) {
    problems.push('KAFKA_SASL_PASSWORD, KAFKA_SASL_PASSWORD_FILE: set one, not both');
  } else if (passwordFile) {
    // Secret files usually end with a newline that is not part of the password.
    secret = readConfigFile('KAFKA_SASL_PASSWORD_FILE', passwordFile, problems)?.replace(/\r?\n$/, '');
    if (secret === '') problems.push(`KAFKA_SASL_PASSWORD_FILE: ${passwordFile} is empty`);
  } else if (password) {
    secret = password;
  } else {
    problems.push(`KAFKA_SASL_PASSWORD: required when KAFKA_SASL_MECHANISM=${mechanism} (or KAFKA_SASL_PASSWORD_FILE)`);
  }
  if (!username || !secret) return undefined;
  return { mechanism, username, password: secret };
}
