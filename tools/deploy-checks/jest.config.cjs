const preset = require('../../jest.preset.cjs');

/** kubernetes-models and the ESM-only packages it loads (see jest.resolver.cjs). */
const ESM_PACKAGES = ['kubernetes-models', '@kubernetes-models', 'is-cidr', 'cidr-regex'];

module.exports = {
  displayName: 'deploy-checks',
  preset: '../../jest.preset.cjs',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
  // kubernetes-models ships ESM only: resolve its "import" entry points and let SWC turn them into
  // CommonJS (see jest.resolver.cjs).
  resolver: '<rootDir>/jest.resolver.cjs',
  transform: {
    ...preset.transform,
    '^.+\\.js$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${ESM_PACKAGES.join('|')})/)`],
  testTimeout: 30000,
};
