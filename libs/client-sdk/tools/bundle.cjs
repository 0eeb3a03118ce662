/**
 * Third step of `nx build client-sdk`, after tsc and assemble-package.cjs: adds the ES module and
 * browser builds to dist/libs/client-sdk, then checks that every entry of the `exports` map loads
 * and exposes the same API.
 *
 * - dist/index.js (+ .d.ts)            CommonJS, from tsc (require, Node)
 * - dist/index.mjs                     ES module, socket.io-client left as an import (bundlers, Node)
 * - dist/browser/seqcast-client.mjs    ES module with socket.io-client inside: a <script type=module>
 *                                      or an import map needs nothing else
 * - dist/browser/seqcast-client.iife.js the same as a classic script, global `Seqcast`
 *
 * esbuild, because it only strips types (tsc already type-checked and emitted the declarations)
 * and bundles socket.io-client's browser build in well under a second.
 */
const fs = require('node:fs');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const vm = require('node:vm');
const esbuild = require('esbuild');

const workspace = path.resolve(__dirname, '../../..');
const projectRoot = path.join(workspace, 'libs/client-sdk');
const out = path.join(workspace, 'dist/libs/client-sdk');
const entry = path.join(projectRoot, 'src/index.ts');
const tsconfig = path.join(projectRoot, 'tsconfig.lib.json');
// ES2020: every evergreen browser since 2020 and Node >= 20.
const target = ['es2020'];

function fail(message) {
  console.error(`bundle: ${message}`);
  process.exit(1);
}

async function main() {
  if (!fs.existsSync(path.join(out, 'dist/index.js'))) fail('dist/index.js is missing; run tsc and assemble-package.cjs first');
  const common = { entryPoints: [entry], bundle: true, target, tsconfig, legalComments: 'none', logLevel: 'warning' };
  const results = await Promise.all([
    esbuild.build({ ...common, outfile: path.join(out, 'dist/index.mjs'), format: 'esm', platform: 'neutral', external: ['socket.io-client'], metafile: true }),
    esbuild.build({ ...common, outfile: path.join(out, 'dist/browser/seqcast-client.mjs'), format: 'esm', platform: 'browser', minify: true, sourcemap: true, metafile: true }),
    esbuild.build({ ...common, outfile: path.join(out, 'dist/browser/seqcast-client.iife.js'), format: 'iife', globalName: 'Seqcast', platform: 'browser', minify: true, sourcemap: true, metafile: true }),
  ]);

  const problems = [];
  const [esm, browserEsm, browserIife] = results.map((r) => Object.values(r.metafile.outputs).find((o) => o.entryPoint));
  for (const { path: specifier } of esm.imports) {
    if (specifier !== 'socket.io-client') problems.push(`dist/index.mjs imports "${specifier}" (only socket.io-client may stay external)`);
  }
  for (const [name, output] of [['seqcast-client.mjs', browserEsm], ['seqcast-client.iife.js', browserIife]]) {
    if (output.imports.length > 0) problems.push(`dist/browser/${name} still imports ${output.imports.map((i) => i.path).join(', ')}`);
  }

  // Every way in must expose the same API as the CommonJS build the declarations describe.
  const pkg = JSON.parse(fs.readFileSync(path.join(out, 'package.json'), 'utf8'));
  const cjsNames = Object.keys(require(path.join(out, 'dist/index.js'))).sort();
  const viaRequire = Object.keys(require(path.join(out, pkg.exports['.'].require))).sort();
  const viaImport = Object.keys(await import(pathToFileURL(path.join(out, pkg.exports['.'].import)).href)).sort();
  const browserFile = fs.readFileSync(path.join(out, pkg.exports['./browser'].default), 'utf8');
  for (const [what, names] of [['exports["."].require', viaRequire], ['exports["."].import', viaImport]]) {
    if (JSON.stringify(names) !== JSON.stringify(cjsNames)) problems.push(`${what} exposes ${names.join(', ')}; the CJS build has ${cjsNames.join(', ')}`);
  }
  for (const name of cjsNames) {
    if (!new RegExp(`\\b${name}\\b`).test(browserFile.slice(browserFile.lastIndexOf('export{')))) problems.push(`the browser bundle does not export ${name}`);
  }
  // The classic script must define the global, as a page would run it (no module system).
  const iife = fs.readFileSync(path.join(out, pkg.exports['./browser/iife']), 'utf8');
  const page = { console };
  page.window = page;
  page.self = page;
  vm.runInNewContext(iife, page);
  const globalNames = Object.keys(page.Seqcast ?? {}).sort();
  if (JSON.stringify(globalNames) !== JSON.stringify(cjsNames)) problems.push(`the iife defines Seqcast with ${globalNames.join(', ') || 'nothing'}`);
  if (problems.length > 0) fail(`the package is inconsistent:\n  ${problems.join('\n  ')}`);
  const size = (file) => `${(fs.statSync(path.join(out, file)).size / 1024).toFixed(1)} KiB`;
  console.log(
    `bundle: ESM ${size('dist/index.mjs')}, browser ${size('dist/browser/seqcast-client.mjs')} (ESM) / ` +
      `${size('dist/browser/seqcast-client.iife.js')} (global Seqcast), exports: ${cjsNames.join(', ')}`,
  );
}

main().catch((error) => fail(error.stack ?? String(error)));
