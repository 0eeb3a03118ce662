/**
 * DATABASE_SSL against the test PostgreSQL server. Whether that server has TLS on is its
 * administrator's choice (the shared local one has not), so the test asks it (`SHOW ssl`) and checks
 * the matching outcome: encrypted connections when it has, otherwise a start-up error that names
 * DATABASE_SSL instead of a bare driver message. Either way `disable` keeps working.
 */
import { createTestDatabase, type TestDatabase } from '@seqcast/testing';
import { Client } from 'pg';
import { DatabaseError, ensureDatabase, openDatabase } from './database';

describe('DATABASE_SSL against the test server', () => {
  let database: TestDatabase;
  let serverHasTls: boolean;

  beforeAll(async () => {
    database = await createTestDatabase();
    const client = new Client({ connectionString: database.url });
    await client.connect();
    try {
      serverHasTls = (await client.query<{ ssl: string }>('SHOW ssl')).rows[0].ssl === 'on';
    } finally {
      await client.end();
    }
  });

  afterAll(async () => {
    await database?.drop();
  });

  it('require: encrypted when the server offers TLS, else a start-up error naming DATABASE_SSL', async () => {
    const opening = openDatabase({ url: database.url, runMigrations: true, tls: { mode: 'require' } });
    if (serverHasTls) {
      const dataSource = await opening;
      try {
        const [{ ssl }] = await dataSource.query('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
        expect(ssl).toBe(true);
      } finally {
        await dataSource.destroy();
      }
    } else {
      await expect(opening).rejects.toBeInstanceOf(DatabaseError);
      await expect(opening).rejects.toThrow(
        /does not support SSL.*\(DATABASE_SSL=require: enable ssl on the server or set DATABASE_SSL=disable\)/,
      );
    }
  });

  it('ensureDatabase uses the same TLS settings as the pool', async () => {
    const ensuring = ensureDatabase(database.url, { mode: 'require' });
    if (serverHasTls) await expect(ensuring).resolves.toBeUndefined();
    else await expect(ensuring).rejects.toThrow(/DATABASE_SSL=require/);
  });

  it('disable connects as before', async () => {
    const dataSource = await openDatabase({ url: database.url, runMigrations: true, tls: { mode: 'disable' } });
    try {
      expect(await dataSource.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    } finally {
      await dataSource.destroy();
    }
  });
});
