import root from '../../eslint.config.mjs';

/**
 * The workspace's rules, unchanged but for one option. This is the only published (buildable)
 * library, and it imports `@seqcast/contracts/wire` (the contracts' plain wire types, no zod) with
 * `import type` only. Nx's "buildable libraries cannot import non-buildable libraries" check cannot
 * see that, and what it protects (a built package depending on unbuilt workspace code) is enforced
 * by the build instead: tools/assemble-package.cjs bundles the wire declarations, fails if the
 * emitted JS requires anything but socket.io-client, and fails if any emitted declaration mentions
 * zod. Tag constraints (type:sdk -> type:util only, scope:client -> scope:client|shared) still apply.
 */
const RULE = '@nx/enforce-module-boundaries';
const [severity, options] = root.find((config) => config.rules?.[RULE])?.rules[RULE] ?? [];
if (!options) throw new Error(`libs/client-sdk/eslint.config.mjs: ${RULE} not found in the root config`);

const CONTRACTS_ROOT = {
  name: '@seqcast/contracts',
  message:
    'Import the wire types from `@seqcast/contracts/wire`: the package root also declares the zod schemas, ' +
    "and the SDK's published declarations must not reference zod.",
};

export default [
  ...root,
  {
    files: ['**/*.ts'],
    rules: { [RULE]: [severity, { ...options, enforceBuildableLibDependency: false }] },
  },
  {
    // Tests and test support too: the SDK's code and its tests speak the same zod-free wire types.
    files: ['src/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { paths: [CONTRACTS_ROOT] }] },
  },
  {
    // What ships runs in browsers and Node >= 20 with socket.io-client as its only dependency.
    // (This entry replaces the one above for these files, so it repeats CONTRACTS_ROOT.)
    files: ['src/**/*.ts'],
    ignores: ['src/**/*.spec.ts', 'src/test-support/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            CONTRACTS_ROOT,
            {
              name: '@seqcast/contracts/wire',
              allowTypeImports: true,
              message:
                'Use `import type`: the package bundles only the declarations of @seqcast/contracts/wire, ' +
                'so a value import would be a missing module at run time.',
            },
            { name: 'zod', message: 'The SDK must not depend on zod, at run time or in its declarations.' },
          ],
          patterns: [{ group: ['node:*'], message: 'The SDK also runs in browsers: no Node-only modules.' }],
        },
      ],
    },
  },
];
