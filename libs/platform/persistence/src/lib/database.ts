/**
 * Opening the database: create it if missing, migrate under a PostgreSQL advisory lock so that
 * several services starting together neither race nor double-apply, make sure an epoch exists.
 * The schema is only ever changed by migrations, never by TypeORM's `synchronize`.
 */
import { randomBytes } from 'node:crypto';
import type { ConnectionOptions } from 'node:tls';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { ENTITIES, EPOCH_KEY } from './entities';
import { MIGRATIONS } from './migrations';

/** Arbitrary constant shared by every Seqcast process: "seqcast-migrations" folded into int8. */
const MIGRATION_LOCK_KEY = 0x5eca_57d6;

export class DatabaseError extends Error {
  override readonly name = 'DatabaseError';
}

/** A fresh epoch: `e` + 12 random hex chars, opaque to clients. */
export function newEpoch(): string {
  return `e${randomBytes(6).toString('hex')}`;
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparseable database url>';
  }
}

function databaseName(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DatabaseError(`invalid database url ${redactUrl(url)}`);
  }
  const name = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (!name) throw new DatabaseError(`database url ${redactUrl(url)} names no database`);
  return name;
}

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * TLS to PostgreSQL (DATABASE_SSL / DATABASE_SSL_CA_FILE, resolved by @seqcast/config): libpq's
 * sslmode names, the CA as PEM contents.
 */
export interface DatabaseTls {
  mode: 'disable' | 'require' | 'verify-full';
  ca?: string;
}

/**
 * node-postgres' `ssl` option for a mode; undefined for `disable`, which leaves the URL in charge
 * (an `sslmode` in DATABASE_URL keeps working as before).
 *  - require: encrypted. With a CA the chain is verified but not the host name (libpq's verify-ca,
 *    which is what libpq does for `require` when a root certificate is present); without one
 *    nothing is verified (encryption against passive listeners only).
 *  - verify-full: chain (the CA, or Node's public roots) and host name verified.
 */
export function pgSslOptions(tls: DatabaseTls | undefined): ConnectionOptions | undefined {
  if (!tls || tls.mode === 'disable') return undefined;
  if (tls.mode === 'verify-full') return { rejectUnauthorized: true, ...(tls.ca ? { ca: tls.ca } : {}) };
  if (tls.ca) return { rejectUnauthorized: true, ca: tls.ca, checkServerIdentity: () => undefined };
  return { rejectUnauthorized: false };
}

/** Says which setting to look at when the failure is TLS-related; the driver's words otherwise. */
function describeConnectFailure(error: unknown, tls: DatabaseTls | undefined): string {
  const message = describe(error);
  if (/does not support SSL/i.test(message)) {
    return `${message} (DATABASE_SSL=${tls?.mode}: enable ssl on the server or set DATABASE_SSL=disable)`;
  }
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/.test(errorCode(error) ?? '')) {
    return `${message} (DATABASE_SSL=${tls?.mode}: set DATABASE_SSL_CA_FILE to the CA that signed the server's certificate)`;
  }
  return message;
}

/** CREATE DATABASE if it does not exist, connecting to the server's `postgres` database. */
export async function ensureDatabase(url: string, tls?: DatabaseTls): Promise<void> {
  const name = databaseName(url);
  const adminUrl = new URL(url);
  adminUrl.pathname = '/postgres';
  const ssl = pgSslOptions(tls);
  const client = new Client({ connectionString: adminUrl.toString(), ...(ssl ? { ssl } : {}) });
  try {
    await client.connect();
  } catch (error) {
    throw new DatabaseError(
      `cannot connect to PostgreSQL at ${redactUrl(adminUrl.toString())}: ${describeConnectFailure(error, tls)}`,
    );
  }
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount) return;
    await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
  } catch (error) {
    // Another service created it between our check and our CREATE: that is the outcome we wanted.
    if (errorCode(error) === '42P04' || errorCode(error) === '23505') return;
    throw new DatabaseError(`cannot create database "${name}": ${describe(error)}`);
  } finally {
    await client.end();
  }
}

export interface OpenDatabaseOptions {
  url: string;
  /** Apply pending migrations (under an advisory lock); when false, refuse to start on an old schema. */
  runMigrations: boolean;
  /** Pool size; node-postgres' default is 10. */
  poolSize?: number;
  /** Absent or `disable`: whatever DATABASE_URL says (plaintext unless it has an sslmode). */
  tls?: DatabaseTls;
}

/** An initialized TypeORM DataSource on a migrated schema with an epoch. */
export async function openDatabase(options: OpenDatabaseOptions): Promise<DataSource> {
  const ssl = pgSslOptions(options.tls);
  const dataSource = new DataSource({
    type: 'postgres',
    url: options.url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsRun: false,
    synchronize: false,
    logging: false,
    // `ssl` in the driver options rather than TypeORM's own (typed as TlsOptions, which lacks the
    // checkServerIdentity that verify-ca semantics need); node-postgres gets the same object.
    extra: { max: options.poolSize ?? 10, application_name: 'seqcast', ...(ssl ? { ssl } : {}) },
  });
  try {
    await dataSource.initialize();
  } catch (error) {
    throw new DatabaseError(`cannot open database ${redactUrl(options.url)}: ${describeConnectFailure(error, options.tls)}`);
  }
  try {
    if (options.runMigrations) {
      await migrateUnderLock(dataSource);
    } else if (await dataSource.showMigrations()) {
      throw new DatabaseError(
        `database ${redactUrl(options.url)} has pending migrations; start one service with DATABASE_RUN_MIGRATIONS=true`,
      );
    }
    await dataSource.query(`INSERT INTO seqcast_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`, [
      EPOCH_KEY,
      newEpoch(),
    ]);
    return dataSource;
  } catch (error) {
    await dataSource.destroy();
    throw error instanceof DatabaseError
      ? error
      : new DatabaseError(`cannot prepare database ${redactUrl(options.url)}: ${describe(error)}`);
  }
}

async function migrateUnderLock(dataSource: DataSource): Promise<void> {
  // The lock lives on its own connection; migrations run on others from the pool and other
  // processes block in pg_advisory_lock until we are done, then find nothing pending.
  const lockRunner = dataSource.createQueryRunner();
  await lockRunner.connect();
  try {
    await lockRunner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await dataSource.runMigrations({ transaction: 'each' });
    } finally {
      await lockRunner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await lockRunner.release();
  }
}

/** Readiness: throws unless the database answers. */
export async function probeDatabase(dataSource: DataSource): Promise<void> {
  if (!dataSource.isInitialized) throw new DatabaseError('database connection is closed');
  await dataSource.query('SELECT 1');
}
