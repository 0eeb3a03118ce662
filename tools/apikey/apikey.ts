/**
 * Manage API keys for backend publishers (docs/operating.md "API keys"):
 *
 *   npm run apikey -- create <name> --rooms 'feed:*' [--publish P]... [--subscribe P]... [--history P]...
 *   npm run apikey -- list [--all] [--json]
 *   npm run apikey -- revoke <id|name>
 *
 * Reads DATABASE_URL (and runs pending migrations when DATABASE_RUN_MIGRATIONS is not false, like the
 * services). The key is printed once by `create`; only its SHA-256 is stored.
 */
import { parseArgs } from 'node:util';
import type { Grants } from '@seqcast/auth';
import { ApiKeyRepository, type ApiKeySummary, openDatabase } from '@seqcast/persistence';

const USAGE = `usage:
  apikey create <name> [--rooms PATTERN]... [--publish PATTERN]... [--subscribe PATTERN]... [--history PATTERN]... [--json]
  apikey list [--all] [--json]
  apikey revoke <id|name>
--rooms grants publish, subscribe and history; the others grant one capability each.`;

class UsageError extends Error {}

function patterns(values: string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
}

function describeKey(key: ApiKeySummary): string {
  const grants = (['publish', 'subscribe', 'history'] as const)
    .map((capability) => `${capability}=${key.grants[capability].join(',') || '-'}`)
    .join(' ');
  const state = key.revokedAt ? `revoked ${key.revokedAt.toISOString()}` : 'active';
  return `${key.id}  ${key.name}  ${key.displayPrefix}…  ${grants}  created ${key.createdAt.toISOString()}  ${state}`;
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      rooms: { type: 'string', multiple: true },
      publish: { type: 'string', multiple: true },
      subscribe: { type: 'string', multiple: true },
      history: { type: 'string', multiple: true },
      all: { type: 'boolean' },
      json: { type: 'boolean' },
    },
  });
  if (!['create', 'list', 'revoke'].includes(command ?? '')) throw new UsageError(`unknown command ${JSON.stringify(command ?? '')}`);
  if (command !== 'list' && positionals.length !== 1) throw new UsageError(`${command} takes exactly one <${command === 'create' ? 'name' : 'id|name'}>`);

  let grants: Grants | undefined;
  if (command === 'create') {
    const rooms = patterns(values.rooms);
    grants = {
      publish: [...rooms, ...patterns(values.publish)],
      subscribe: [...rooms, ...patterns(values.subscribe)],
      history: [...rooms, ...patterns(values.history)],
    };
    if (!grants.publish.length && !grants.subscribe.length && !grants.history.length) {
      throw new UsageError('create needs at least one --rooms, --publish, --subscribe or --history pattern');
    }
  }

  const url = process.env['DATABASE_URL'] || 'postgres://postgres@127.0.0.1:5432/seqcast';
  const runMigrations = !/^(false|0|no)$/i.test(process.env['DATABASE_RUN_MIGRATIONS'] ?? '');
  const dataSource = await openDatabase({ url, runMigrations, poolSize: 2 });
  try {
    const keys = new ApiKeyRepository(dataSource);
    if (command === 'create' && grants) {
      const { key, record } = await keys.create(positionals[0], grants);
      if (values.json) console.log(JSON.stringify({ key, ...record }));
      else {
        console.log(describeKey(record));
        console.log(`\nAPI key (shown once, store it now; send it as the X-Api-Key header):\n${key}`);
      }
    } else if (command === 'list') {
      const list = await keys.list(values.all ?? false);
      if (values.json) console.log(JSON.stringify(list));
      else if (list.length === 0) console.log('no API keys');
      else for (const key of list) console.log(describeKey(key));
    } else {
      const revoked = await keys.revoke(positionals[0]);
      if (!revoked) throw new UsageError(`no active API key with id or name ${JSON.stringify(positionals[0])}`);
      console.log(`revoked ${describeKey(revoked)}`);
      console.log('ingest-api instances stop accepting it within SEQCAST_API_KEY_CACHE_TTL_MS (default 30 s).');
    }
  } finally {
    await dataSource.destroy();
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError) {
    console.error(`apikey: ${error.message}\n${USAGE}`);
    process.exit(2);
  }
  const message = error instanceof Error ? error.message : String(error);
  // A second active key with the same name hits the partial unique index.
  console.error(`apikey: ${/uq_seqcast_api_keys_active_name/.test(String((error as { constraint?: string }).constraint ?? message)) ? 'an active key with that name already exists (revoke it first)' : message}`);
  process.exit(1);
});
