import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/** Server-level URL used only to create and drop throw-away databases; never a user's data. */
export function testServerUrl(): string {
  return process.env['SEQCAST_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
}

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A fresh `seqcast_test_<random>` database; `drop()` removes it even if connections linger. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `seqcast_test_${randomBytes(5).toString('hex')}`;
  const serverUrl = testServerUrl();
  await withClient(serverUrl, (client) => client.query(`CREATE DATABASE "${name}"`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: async () => {
      await withClient(serverUrl, (client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}

async function withClient<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
