/**
 * Second half of `nx build client-react` (tsc emitted the declarations): ES module + CommonJS
 * builds with react and @seqcast/client left as imports (peer dependencies), the declarations,
 * package.json and README, in dist/libs/client-react.
 */
const fs = require('node:fs');
const path = require('node:path');
const esbuild = require('esbuild');

const workspace = path.resolve(__dirname, '../../..');
const projectRoot = path.join(workspace, 'libs/client-react');
const out = path.join(workspace, 'dist/libs/client-react');
const stage = path.join(out, '.tsc/libs/client-react/src');
const PEERS = ['react', '@seqcast/client'];

function copyDeclarations(from, to) {
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const source = path.join(from, entry.name);
    const target = path.join(to, entry.name);
    if (entry.isDirectory()) copyDeclarations(source, target);
    else if (entry.name.endsWith('.d.ts')) {
      fs.mkdirSync(to, { recursive: true });
      fs.copyFileSync(source, target);
    }
  }
}

async function main() {
  if (!fs.existsSync(stage)) throw new Error(`no declarations in ${stage}; run tsc -p libs/client-react/tsconfig.lib.json first`);
  copyDeclarations(stage, path.join(out, 'dist'));
  const common = {
    entryPoints: [path.join(projectRoot, 'src/index.ts')],
    bundle: true,
    external: PEERS,
    platform: 'neutral',
    target: ['es2020'],
    tsconfig: path.join(projectRoot, 'tsconfig.lib.json'),
    logLevel: 'warning',
  };
  await esbuild.build({ ...common, format: 'esm', outfile: path.join(out, 'dist/index.mjs') });
  await esbuild.build({ ...common, format: 'cjs', outfile: path.join(out, 'dist/index.js') });
  for (const name of ['package.json', 'README.md']) fs.copyFileSync(path.join(projectRoot, name), path.join(out, name));
  fs.rmSync(path.join(out, '.tsc'), { recursive: true, force: true });
  const exported = Object.keys(require(path.join(out, 'dist/index.js'))).sort();
  if (!exported.includes('useRoom')) throw new Error(`dist/index.js does not export useRoom (it exports ${exported.join(', ')})`);
  console.log(`build-package: dist/libs/client-react is ready (exports ${exported.join(', ')})`);
}

main().catch((error) => {
  console.error(`build-package: ${error.message}`);
  process.exit(1);
});
