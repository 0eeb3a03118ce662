import { type ApiKeyRecord, type ApiKeyStore, generateApiKey, type Grants } from '@seqcast/auth';
import { type DataSource, IsNull } from 'typeorm';
import { ApiKeyEntity } from './entities';

export interface ApiKeySummary extends ApiKeyRecord {
  displayPrefix: string;
  createdAt: Date;
}

/** API keys in PostgreSQL: the lookup ingest-api's authenticator uses, and what the `apikey` CLI manages. */
export class ApiKeyRepository implements ApiKeyStore {
  constructor(private readonly dataSource: DataSource) {}

  async findByHash(keyHash: string): Promise<ApiKeyRecord | undefined> {
    const row = await this.dataSource.getRepository(ApiKeyEntity).findOneBy({ keyHash });
    return row ? toSummary(row) : undefined;
  }

  /** Creates a key; the returned `key` is the only time it exists in clear. */
  async create(name: string, grants: Grants): Promise<{ key: string; record: ApiKeySummary }> {
    const { key, keyHash, displayPrefix } = generateApiKey();
    const row = await this.dataSource.getRepository(ApiKeyEntity).save({
      name,
      keyHash,
      displayPrefix,
      publishPatterns: grants.publish,
      subscribePatterns: grants.subscribe,
      historyPatterns: grants.history,
      createdAt: new Date(),
      revokedAt: null,
    });
    return { key, record: toSummary(row) };
  }

  async list(includeRevoked = false): Promise<ApiKeySummary[]> {
    const rows = await this.dataSource.getRepository(ApiKeyEntity).find({
      where: includeRevoked ? {} : { revokedAt: IsNull() },
      order: { createdAt: 'ASC' },
    });
    return rows.map(toSummary);
  }

  /** Revokes the active key with that id or name; false when there is none. */
  async revoke(idOrName: string): Promise<ApiKeySummary | undefined> {
    const byId = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(idOrName);
    const rows: ApiKeyEntity[] = await this.dataSource
      .createQueryBuilder()
      .update(ApiKeyEntity)
      .set({ revokedAt: () => 'now()' })
      .where(byId ? 'id = :value' : 'name = :value', { value: idOrName })
      .andWhere('revoked_at IS NULL')
      .returning('*')
      .execute()
      .then((result) => (result.raw as Record<string, unknown>[]).map(fromRaw));
    return rows[0] ? toSummary(rows[0]) : undefined;
  }
}

function fromRaw(raw: Record<string, unknown>): ApiKeyEntity {
  return {
    id: raw['id'] as string,
    name: raw['name'] as string,
    keyHash: raw['key_hash'] as string,
    displayPrefix: raw['display_prefix'] as string,
    publishPatterns: raw['publish_patterns'] as string[],
    subscribePatterns: raw['subscribe_patterns'] as string[],
    historyPatterns: raw['history_patterns'] as string[],
    createdAt: raw['created_at'] as Date,
    revokedAt: raw['revoked_at'] as Date | null,
  };
}

function toSummary(row: ApiKeyEntity): ApiKeySummary {
  return {
    id: row.id,
    name: row.name,
    displayPrefix: row.displayPrefix,
    grants: { publish: row.publishPatterns, subscribe: row.subscribePatterns, history: row.historyPatterns },
    createdAt: row.createdAt,
    revokedAt: row.revokedAt,
  };
}
