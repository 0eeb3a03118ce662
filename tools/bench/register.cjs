/** Loaded with `-r` by the bench and its worker processes: TypeScript via SWC plus the @seqcast/* aliases. */
const path = require('node:path');
const root = path.join(__dirname, '../..');
require('ts-node').register({
  transpileOnly: true,
  swc: true,
  project: path.join(__dirname, 'tsconfig.json'),
  // @swc/helpers is not installed; inline helpers instead.
  compilerOptions: { importHelpers: false },
});
const { compilerOptions } = require(path.join(root, 'tsconfig.base.json'));
require('tsconfig-paths').register({ baseUrl: root, paths: compilerOptions.paths });
