// Shared Jest settings: SWC transpiles TypeScript (about twice as fast as ts-jest) and must keep
// legacy decorators and their metadata, which Nest DI and TypeORM read at run time.
const path = require('node:path');
const { readFileSync } = require('node:fs');

const base = JSON.parse(readFileSync(path.join(__dirname, 'tsconfig.base.json'), 'utf8'));
const moduleNameMapper = Object.fromEntries(
  Object.entries(base.compilerOptions.paths ?? {}).map(([alias, [target]]) => [
    `^${alias.replace('*', '(.*)')}$`,
    path.join(__dirname, target.replace('*', '$1')),
  ]),
);

module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: {
          target: 'es2022',
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
        },
        module: { type: 'commonjs' },
        sourceMaps: 'inline',
      },
    ],
    // @platformatic/kafka (and its own packages) ship ES modules only; Jest's module registry
    // cannot require() them without --experimental-vm-modules (Node itself can: the services load
    // them as they are), so they are compiled to CommonJS like our sources.
    '/node_modules/@platformatic/.+\\.js$': [
      '@swc/jest',
      { jsc: { target: 'es2022' }, module: { type: 'commonjs' }, sourceMaps: false },
    ],
  },
  transformIgnorePatterns: ['/node_modules/(?!@platformatic/)'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper,
  clearMocks: true,
};
