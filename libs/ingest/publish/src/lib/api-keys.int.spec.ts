/**
 * Backend publishers with API keys, end to end: keys created and revoked with the `apikey` CLI
 * against a real PostgreSQL database, used over HTTP against the real broker. A revoked key is
 * refused within the cache TTL.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { type Admin, createKafka, ensureTopics, type Kafka } from '@seqcast/kafka';
import { type DataSource, openDatabase } from '@seqcast/persistence';
import { createTestDatabase, type TestDatabase, testKafkaBrokers, uniqueTopics, waitFor } from '@seqcast/testing';
import { callApi, type RunningIngestService, startIngestService } from '../testing';

const PARTITIONS = 2;
const CACHE_TTL_MS = 1_000;
const CLI = resolve(__dirname, '../../../../../tools/apikey/run.cjs');
const run = promisify(execFile);

describe('API keys (apikey CLI + real PostgreSQL + real Kafka)', () => {
  const { messagesTopic } = uniqueTopics('ingest-apikeys');
  let database: TestDatabase;
  let dataSource: DataSource;
  let kafka: Kafka;
  let admin: Admin;
  let service: RunningIngestService;

  async function cli(...args: string[]): Promise<string> {
    const { stdout } = await run(process.execPath, [CLI, ...args], {
      env: { ...process.env, DATABASE_URL: database.url },
      timeout: 60_000,
    });
    return stdout;
  }

  function withKey(key: string) {
    return { token: null, headers: { 'x-api-key': key } };
  }

  beforeAll(async () => {
    database = await createTestDatabase();
    dataSource = await openDatabase({ url: database.url, runMigrations: true });
    kafka = createKafka({ brokers: testKafkaBrokers(), clientId: 'ingest-apikeys-int' });
    await ensureTopics(kafka, [{ name: messagesTopic, partitions: PARTITIONS }]);
    admin = kafka.admin();
    await admin.connect();
    service = await startIngestService({
      kafka,
      dataSource,
      messagesTopic,
      partitions: PARTITIONS,
      apiKeyCacheTtlMs: CACHE_TTL_MS,
    });
  });

  afterAll(async () => {
    await service?.close();
    await admin?.deleteTopics({ topics: [messagesTopic] }).catch(() => undefined);
    await admin?.disconnect();
    await dataSource?.destroy();
    await database?.drop();
  });

  it('publishes with a key, within its scope only, and stops within the TTL after revocation', async () => {
    const created = JSON.parse(await cli('create', 'billing', '--publish', 'feed:*', '--json')) as { key: string; id: string };
    expect(created.key).toMatch(/^sck_/);
    expect(await cli('list')).toContain('billing');

    const accepted = await callApi(service.baseUrl, 'POST', '/v1/rooms/feed:invoices/messages', {
      ...withKey(created.key),
      json: { clientMsgId: 'inv-1', payload: { total: 10 } },
    });
    expect(accepted.status).toBe(202);

    // Scoped: another room, and history it was not granted, are 403.
    const otherRoom = await callApi(service.baseUrl, 'POST', '/v1/rooms/team-1:general/messages', {
      ...withKey(created.key),
      json: { clientMsgId: 'x', payload: 1 },
    });
    expect(otherRoom.status).toBe(403);
    expect((await callApi(service.baseUrl, 'GET', '/v1/rooms/feed:invoices/messages', withKey(created.key))).status).toBe(403);

    // Unknown and malformed keys are 401.
    for (const key of ['sck_' + 'A'.repeat(43), 'nope']) {
      const reply = await callApi(service.baseUrl, 'POST', '/v1/rooms/feed:x/messages', { ...withKey(key), json: { clientMsgId: 'y', payload: 1 } });
      expect({ key, status: reply.status }).toEqual({ key, status: 401 });
    }

    expect(await cli('revoke', created.id)).toContain('revoked');
    let lastStatus = 0;
    await waitFor(
      async () => {
        const reply = await callApi(service.baseUrl, 'POST', '/v1/rooms/feed:invoices/messages', {
          ...withKey(created.key),
          json: { clientMsgId: `after-revoke-${Date.now()}`, payload: 1 },
        });
        lastStatus = reply.status;
        return reply.status === 401;
      },
      // The documented bound is the cache TTL; the slack covers a loaded CI box.
      { timeoutMs: CACHE_TTL_MS + 5_000, intervalMs: 100, what: `the revoked key to be refused (last ${lastStatus})` },
    );
  });
});
