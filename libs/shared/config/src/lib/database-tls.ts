/**
 * Whether and how services encrypt their PostgreSQL connections (DATABASE_SSL, DATABASE_SSL_CA_FILE),
 * resolved at start-up with the CA read from its mounted file. The modes follow libpq's sslmode names
 * so a DBA's wording carries over; persistence maps them onto node-postgres' `ssl` option.
 */
import { ConfigValidationError } from './config-validation-error';
import { envField } from './env-field';
import { readCertificateFile } from './kafka-security';

export const DATABASE_SSL_MODES = ['disable', 'require', 'verify-full'] as const;
export type DatabaseSslMode = (typeof DATABASE_SSL_MODES)[number];

/** Spread into databaseEnv. */
export const databaseTlsEnv = {
  /**
   * disable: plaintext. require: encrypted; the server's certificate is checked against
   * DATABASE_SSL_CA_FILE when one is given (like libpq's verify-ca), not at all otherwise.
   * verify-full: encrypted, certificate chain (CA file, or Node's public roots) and host name checked.
   */
  DATABASE_SSL: envField.enumOf(DATABASE_SSL_MODES, 'disable'),
  DATABASE_SSL_CA_FILE: envField.string(),
};

export interface DatabaseTlsSettings {
  mode: DatabaseSslMode;
  /** PEM contents of DATABASE_SSL_CA_FILE (read at start-up). */
  ca?: string;
}

/** TLS settings in the URL would silently win over DATABASE_SSL in node-postgres: refuse both at once. */
const URL_TLS_PARAMS = ['sslmode', 'ssl', 'sslrootcert', 'sslcert', 'sslkey'];

/** Throws ConfigValidationError naming the variable. */
export function resolveDatabaseTls(
  raw: { DATABASE_URL: string; DATABASE_SSL: DatabaseSslMode; DATABASE_SSL_CA_FILE?: string },
): DatabaseTlsSettings {
  const problems: string[] = [];
  const caFile = raw.DATABASE_SSL_CA_FILE?.trim();
  if (raw.DATABASE_SSL === 'disable' && caFile) {
    problems.push('DATABASE_SSL_CA_FILE: only applies when DATABASE_SSL is require or verify-full');
  }
  const urlParams = tlsParamsInUrl(raw.DATABASE_URL);
  if (urlParams.length > 0 && (raw.DATABASE_SSL !== 'disable' || caFile)) {
    problems.push(
      `DATABASE_URL: carries ${urlParams.join(', ')}, which would override DATABASE_SSL; configure TLS in one place ` +
        '(remove them from the URL)',
    );
  }
  const settings: DatabaseTlsSettings = { mode: raw.DATABASE_SSL };
  if (caFile && raw.DATABASE_SSL !== 'disable') settings.ca = readCertificateFile('DATABASE_SSL_CA_FILE', caFile, problems);
  if (problems.length > 0) throw new ConfigValidationError(problems);
  return settings;
}

function tlsParamsInUrl(url: string): string[] {
  try {
    const params = new URL(url).searchParams;
    return URL_TLS_PARAMS.filter((name) => params.has(name));
  } catch {
    return []; // the URL's own validation reports it
  }
}
