import { createTestDatabase, type TestDatabase } from '@seqcast/testing';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DatabaseError, ensureDatabase, openDatabase, probeDatabase } from './database';
import { MessageHistoryRepository } from './message-history.repository';

describe('opening the database', () => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    await db.drop();
  });

  it('migrates an empty database to exactly the entities, with an epoch, even when services start together', async () => {
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => openDatabase({ url: db.url, runMigrations: true })));
    try {
      const applied: { name: string }[] = await a.query('SELECT name FROM migrations');
      expect(applied.map((m) => m.name)).toEqual([
        'InitialSchema1764288000000',
        'HistoryRetentionIndex1764892800000',
        'ApiKeys1764993612000',
        'SenderScopedIdempotency1765065600000',
        'Presence1765180800000',
      ]);
      const pending = await a.driver.createSchemaBuilder().log();
      expect(pending.upQueries.map((q) => q.query)).toEqual([]);
      const epoch = await new MessageHistoryRepository(b).currentEpoch();
      expect(epoch).toMatch(/^e[0-9a-f]{12}$/);
      expect(await new MessageHistoryRepository(c).currentEpoch()).toBe(epoch);
      await expect(probeDatabase(a)).resolves.toBeUndefined();
    } finally {
      await Promise.all([a, b, c].map((ds) => ds.destroy()));
    }
    await expect(probeDatabase(a)).rejects.toThrow('closed');
  });

  it('refuses to start on an unmigrated schema when told not to migrate', async () => {
    await expect(openDatabase({ url: db.url, runMigrations: false })).rejects.toThrow(
      /pending migrations; start one service with DATABASE_RUN_MIGRATIONS=true/,
    );
  });

  it('names the database and hides the password when it cannot connect', async () => {
    const error = await openDatabase({ url: 'postgres://u:hunter2@127.0.0.1:1/nope', runMigrations: true }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DatabaseError);
    expect((error as Error).message).toContain('postgres://u:***@127.0.0.1:1/nope');
    expect((error as Error).message).not.toContain('hunter2');
  });

  it('ensureDatabase creates a missing database and is idempotent', async () => {
    const name = `seqcast_test_${randomBytes(5).toString('hex')}`;
    const url = new URL(db.url);
    url.pathname = `/${name}`;
    try {
      await Promise.all([ensureDatabase(url.toString()), ensureDatabase(url.toString())]);
      await ensureDatabase(url.toString());
      const ds = await openDatabase({ url: url.toString(), runMigrations: true });
      await ds.destroy();
    } finally {
      const admin = new Client({ connectionString: db.url });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.end();
    }
  });
});
