import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { GENERATE_COMMAND, generatedDocuments, SCHEMAS_DIR } from './documents';

/*
 * The drift check of the committed documents (docs/schemas, docs/openapi.json, docs/asyncapi.yaml)
 * against the contracts. With CONTRACTS_WRITE=1 (the `generate` target, `npm run contracts:generate`)
 * it rewrites them instead, the way `jest -u` rewrites snapshots: one code path builds the files
 * for both, with the repository's own TypeScript setup.
 */

const root = join(__dirname, '..', '..', '..');
const writing = process.env['CONTRACTS_WRITE'] === '1';
const documents = generatedDocuments();

function readOrNull(path: string): string | null {
  try {
    return readFileSync(join(root, path), 'utf8');
  } catch {
    return null;
  }
}

describe('generated contract documents', () => {
  if (writing) {
    it('writes every document and removes schema files no contract produces', () => {
      rmSync(join(root, SCHEMAS_DIR), { recursive: true, force: true });
      for (const [path, content] of documents) {
        mkdirSync(dirname(join(root, path)), { recursive: true });
        writeFileSync(join(root, path), content);
      }
      expect(readdirSync(join(root, SCHEMAS_DIR)).length).toBeGreaterThan(0);
    });
    return;
  }

  it.each([...documents.keys()])('%s is committed and matches the contracts', (path) => {
    const committed = readOrNull(path);
    const fix = `${path} is out of date with libs/shared/contracts: run \`${GENERATE_COMMAND}\` and commit the result.`;
    if (committed !== documents.get(path)) throw new Error(fix);
  });

  it('docs/schemas holds no file that no contract produces', () => {
    const stale = readdirSync(join(root, SCHEMAS_DIR))
      .map((file) => `${SCHEMAS_DIR}/${file}`)
      .filter((path) => !documents.has(path));
    if (stale.length > 0) throw new Error(`${stale.join(', ')} no longer generated: run \`${GENERATE_COMMAND}\`.`);
  });

  it('is deterministic', () => {
    expect(generatedDocuments()).toEqual(documents);
  });
});
