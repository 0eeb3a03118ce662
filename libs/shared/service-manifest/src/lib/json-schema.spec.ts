/**
 * services.schema.json (the manifest's `$schema`, for editors) is generated from the zod schema the
 * reader validates with, so the two cannot disagree. Regenerate: `npx nx run service-manifest:schema`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { zodToJsonSchema } from 'zod-to-json-schema';
import { serviceManifestSchema } from './service-manifest';

const schemaPath = join(__dirname, '../../services.schema.json');

function generated(): string {
  const schema = zodToJsonSchema(serviceManifestSchema, { name: 'ServiceManifest', $refStrategy: 'none' });
  return `${JSON.stringify({ ...schema, title: 'Seqcast services (services.json)' }, null, 2)}\n`;
}

describe('services.schema.json', () => {
  it('is generated from the manifest reader’s schema', () => {
    if (process.env['SERVICES_SCHEMA_WRITE'] === '1') writeFileSync(schemaPath, generated());
    expect(readFileSync(schemaPath, 'utf8')).toBe(generated());
  });
});
