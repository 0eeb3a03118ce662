#!/usr/bin/env node
// Runs verify-cost.ts from source (no build step): the libs it uses are resolved through the
// workspace's path mapping, as the tests resolve them.
const path = require('node:path');
const ts = require('typescript');

const root = path.resolve(__dirname, '../..');
// A parent tool's ts-node settings (Nx sets TS_NODE_COMPILER_OPTIONS for its own config loading)
// must not leak into this compilation.
for (const name of Object.keys(process.env)) if (name.startsWith('TS_NODE_')) delete process.env[name];
const { config } = ts.readConfigFile(path.join(root, 'tsconfig.base.json'), ts.sys.readFile);
require('tsconfig-paths').register({ baseUrl: root, paths: config.compilerOptions.paths });
require('ts-node').register({ transpileOnly: true, project: path.join(__dirname, 'tsconfig.json') });
require('./verify-cost.ts');
