import { readFileSync } from 'node:fs';
import nx from '@nx/eslint-plugin';

/**
 * Module boundaries are the architecture: apps compose features, features use data-access and
 * utils, utils use only utils, and each service's scope sees only itself and `scope:shared`.
 * An app can never import another app because no constraint lists `type:app` as a dependency.
 * Test files may additionally use the `type:testing` harness; production code may not. A feature's
 * integration harness composes its service as the app does, so in tests a feature may also use
 * the other features its app composes (e.g. ingest's harness mounts the history endpoint).
 */
const typeRules = {
  'type:app': ['type:feature', 'type:data-access', 'type:util'],
  'type:feature': ['type:data-access', 'type:util'],
  'type:data-access': ['type:data-access', 'type:util'],
  'type:util': ['type:util'],
  'type:sdk': ['type:sdk', 'type:util'],
  'type:web-app': ['type:sdk', 'type:util'],
  'type:testing': ['type:data-access', 'type:util'],
  'type:e2e': ['type:testing', 'type:util', 'type:sdk', 'type:data-access'],
};
const scopeRules = {
  'scope:shared': ['scope:shared'],
  // ingest-api serves the history capability beside publishing, so it composes scope:history.
  'scope:ingest': ['scope:ingest', 'scope:history', 'scope:shared'],
  'scope:history': ['scope:history', 'scope:shared'],
  'scope:ordering': ['scope:ordering', 'scope:shared'],
  'scope:gateway': ['scope:gateway', 'scope:shared'],
  'scope:client': ['scope:client', 'scope:shared'],
  'scope:e2e': ['scope:shared', 'scope:client'],
};
// Every other service in services.json (one made by `nx g @seqcast/tools:service` is tagged
// `scope:<name>`) sees only itself and scope:shared, like the three above.
const { services } = JSON.parse(readFileSync(new URL('./services.json', import.meta.url), 'utf8'));
for (const name of Object.keys(services)) scopeRules[`scope:${name}`] ??= [`scope:${name}`, 'scope:shared'];

const testOnlyTypeRules = { 'type:feature': ['type:feature'] };

function boundaries({ inTests }) {
  const allowedInTests = (sourceTag, allowed) => [
    ...new Set([...allowed, 'type:testing', ...(testOnlyTypeRules[sourceTag] ?? [])]),
  ];
  const depConstraints = [
    ...Object.entries(typeRules).map(([sourceTag, allowed]) => ({
      sourceTag,
      onlyDependOnLibsWithTags: inTests ? allowedInTests(sourceTag, allowed) : allowed,
    })),
    ...Object.entries(scopeRules).map(([sourceTag, allowed]) => ({ sourceTag, onlyDependOnLibsWithTags: allowed })),
  ];
  return ['error', { enforceBuildableLibDependency: true, allow: [], depConstraints }];
}

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  ...nx.configs['flat/javascript'],
  { ignores: ['**/dist', '**/node_modules', '**/.nx', '**/.local', '**/coverage', '**/tmp'] },
  {
    files: ['**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': boundaries({ inTests: false }),
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.spec.ts', '**/*.int.spec.ts', '**/*.int.ts', '**/*.e2e-spec.ts'],
    rules: { '@nx/enforce-module-boundaries': boundaries({ inTests: true }) },
  },
  {
    files: ['**/*.cjs', '**/*.js'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
];
