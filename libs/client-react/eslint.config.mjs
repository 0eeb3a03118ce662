import root from '../../eslint.config.mjs';

/**
 * Like the SDK (see libs/client-sdk/eslint.config.mjs): this published library imports
 * `@seqcast/client`, which is a peer dependency of the built package, not bundled workspace code.
 */
const RULE = '@nx/enforce-module-boundaries';
const [severity, options] = root.find((config) => config.rules?.[RULE])?.rules[RULE] ?? [];
if (!options) throw new Error(`libs/client-react/eslint.config.mjs: ${RULE} not found in the root config`);

export default [
  ...root,
  {
    files: ['**/*.ts'],
    rules: { [RULE]: [severity, { ...options, enforceBuildableLibDependency: false }] },
  },
];
