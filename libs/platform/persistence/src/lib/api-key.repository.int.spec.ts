import { ApiKeyAuthenticator, hashApiKey } from '@seqcast/auth';
import { createTestDatabase, type TestDatabase } from '@seqcast/testing';
import type { DataSource } from 'typeorm';
import { ApiKeyRepository } from './api-key.repository';
import { openDatabase } from './database';

describe('ApiKeyRepository (real PostgreSQL)', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let repository: ApiKeyRepository;

  beforeAll(async () => {
    db = await createTestDatabase();
    dataSource = await openDatabase({ url: db.url, runMigrations: true });
    repository = new ApiKeyRepository(dataSource);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  it('stores only the hash, finds the key by it, lists and revokes it', async () => {
    const grants = { publish: ['feed:*'], subscribe: [], history: ['feed:*'] };
    const { key, record } = await repository.create('billing', grants);
    const rows: { key_hash: string }[] = await dataSource.query(`SELECT * FROM seqcast_api_keys`);
    expect(JSON.stringify(rows)).not.toContain(key);
    expect(rows[0].key_hash).toBe(hashApiKey(key));

    await expect(repository.findByHash(hashApiKey(key))).resolves.toMatchObject({ name: 'billing', grants, revokedAt: null });
    expect((await repository.list()).map((k) => k.name)).toEqual(['billing']);
    expect(record.displayPrefix).toBe(key.slice(0, 12));

    await expect(repository.revoke('billing')).resolves.toMatchObject({ id: record.id });
    await expect(repository.revoke(record.id)).resolves.toBeUndefined(); // already revoked
    expect(await repository.list()).toEqual([]);
    expect((await repository.list(true))[0].revokedAt).toBeInstanceOf(Date);

    const auth = new ApiKeyAuthenticator(repository, { cacheTtlMs: 1 });
    await expect(auth.authenticate(key)).rejects.toThrow('API key revoked');
  });

  it('lets a revoked name be reused but not an active one', async () => {
    await repository.create('reporting', { publish: ['a'], subscribe: [], history: [] });
    await expect(repository.create('reporting', { publish: ['b'], subscribe: [], history: [] })).rejects.toThrow();
    await repository.revoke('reporting');
    await expect(repository.create('reporting', { publish: ['b'], subscribe: [], history: [] })).resolves.toBeDefined();
  });
});
