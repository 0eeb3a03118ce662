import { Parser } from '@asyncapi/parser';
import { buildOpenApiDocument } from '@seqcast/api-docs';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

/*
 * The committed documents are valid for their specifications, checked offline by the
 * specifications' own validators (documents.spec.ts checks they match the contracts).
 */

const docs = join(__dirname, '..', '..', '..', 'docs');

/**
 * @seriousme/openapi-schema-validator is ESM-only and reads its schemas via import.meta.url, which
 * this CommonJS Jest setup cannot load; its own CLI runs it in a plain Node process instead.
 */
async function validateOpenApi(path: string): Promise<{ valid: boolean; errors?: unknown[] }> {
  const cli = require.resolve('@seriousme/openapi-schema-validator/bin/validate-api-cli.js');
  const { stdout } = await promisify(execFile)(process.execPath, [cli, path]).catch((error: { stdout?: string }) => ({
    stdout: error.stdout ?? '',
  }));
  return JSON.parse(stdout);
}

describe('docs/openapi.json', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const result = await validateOpenApi(join(docs, 'openapi.json'));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(JSON.parse(readFileSync(join(docs, 'openapi.json'), 'utf8')).openapi).toMatch(/^3\.1\./);
  });

  it('is what ingest-api serves at /openapi.json', () => {
    expect(JSON.parse(readFileSync(join(docs, 'openapi.json'), 'utf8'))).toEqual(buildOpenApiDocument());
  });
});

describe('docs/asyncapi.yaml', () => {
  it('is a valid AsyncAPI 3 document whose payload $refs resolve to the generated schemas', async () => {
    const path = join(docs, 'asyncapi.yaml');
    const { document, diagnostics } = await new Parser().parse(readFileSync(path, 'utf8'), { source: path });
    // Severity 0 = error, 1 = warning (e.g. an outdated spec version); 2-3 are style hints.
    expect(diagnostics.filter((d) => d.severity <= 1).map((d) => `${d.path.join('.')}: ${d.message}`)).toEqual([]);
    expect(document).toBeDefined();
    const subscribe = document?.operations().get('receiveSubscribe');
    // A multi-format payload: the parser resolved the file $ref into the schema itself.
    const payload = subscribe?.messages().all()[0]?.payload()?.json() as { schema?: { properties?: object } };
    expect(Object.keys(payload?.schema?.properties ?? {})).toEqual(['roomId', 'afterSeq', 'epoch', 'last', 'presence']);
  });
});
