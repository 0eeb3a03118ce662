import root from '../../eslint.config.mjs';

// The root config applies module boundaries to *.ts; the console's components are *.tsx.
const RULE = '@nx/enforce-module-boundaries';
const boundaries = root.find((config) => config.rules?.[RULE] && config.files?.includes('**/*.ts'))?.rules[RULE];
if (!boundaries) throw new Error(`apps/web-console/eslint.config.mjs: ${RULE} not found in the root config`);

export default [...root, { files: ['**/*.tsx'], rules: { [RULE]: boundaries } }];
