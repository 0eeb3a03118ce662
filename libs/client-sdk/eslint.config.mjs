import root from '../../eslint.config.mjs';

/**
 * The workspace's rules, unchanged but for one option. This is the only published (buildable)
 * library, and it imports @seqcast/contracts with `import type` only. Nx's "buildable libraries
 * cannot import non-buildable libraries" check cannot see that, and what it protects (a built
 * package depending on unbuilt workspace code) is enforced by the build instead:
 * tools/assemble-package.cjs bundles the contracts' declarations and fails if the emitted JS
 * requires anything but socket.io-client. Tag constraints (type:sdk -> type:util only,
 * scope:client -> scope:client|shared) still apply.
 */
const RULE = '@nx/enforce-module-boundaries';
const [severity, options] = root.find((config) => config.rules?.[RULE])?.rules[RULE] ?? [];
if (!options) throw new Error(`libs/client-sdk/eslint.config.mjs: ${RULE} not found in the root config`);

export default [
  ...root,
  {
    files: ['**/*.ts'],
    rules: { [RULE]: [severity, { ...options, enforceBuildableLibDependency: false }] },
  },
  {
    // What ships runs in browsers and Node >= 20 with socket.io-client as its only dependency.
    files: ['src/**/*.ts'],
    ignores: ['src/**/*.spec.ts', 'src/test-support/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: '@seqcast/contracts',
              allowTypeImports: true,
              message: 'Use `import type`: contracts pulls zod in at run time, which must not reach browsers.',
            },
            { name: 'zod', message: 'The SDK must not depend on zod at run time.' },
          ],
          patterns: [{ group: ['node:*'], message: 'The SDK also runs in browsers: no Node-only modules.' }],
        },
      ],
    },
  },
];
