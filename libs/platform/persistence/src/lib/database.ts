/**
 * Opening the database: create it if missing, migrate under a PostgreSQL advisory lock so that
 * several services starting together neither race nor double-apply, make sure an epoch exists.
 * The schema is only ever changed by migrations, never by TypeORM's `synchronize`.
 */
import { randomBytes } from 'node:crypto';
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

/** CREATE DATABASE if it does not exist, connecting to the server's `postgres` database. */
export async function ensureDatabase(url: string): Promise<void> {
  const name = databaseName(url);
  const adminUrl = new URL(url);
  adminUrl.pathname = '/postgres';
  const client = new Client({ connectionString: adminUrl.toString() });
  try {
    await client.connect();
  } catch (error) {
    throw new DatabaseError(`cannot connect to PostgreSQL at ${redactUrl(adminUrl.toString())}: ${describe(error)}`);
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
}

/** An initialized TypeORM DataSource on a migrated schema with an epoch. */
export async function openDatabase(options: OpenDatabaseOptions): Promise<DataSource> {
  const dataSource = new DataSource({
    type: 'postgres',
    url: options.url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsRun: false,
    synchronize: false,
    logging: false,
    extra: { max: options.poolSize ?? 10, application_name: 'seqcast' },
  });
  try {
    await dataSource.initialize();
  } catch (error) {
    throw new DatabaseError(`cannot open database ${redactUrl(options.url)}: ${describe(error)}`);
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
