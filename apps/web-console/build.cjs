/**
 * `nx build web-console`: bundles the console (React, @seqcast/react) with esbuild into
 * dist/apps/web-console. `@seqcast/client` is the SDK's own browser bundle
 * (dist/libs/client-sdk/dist/browser/seqcast-client.mjs, built first), so the console runs the
 * exact file a browser app would load, not the SDK's sources.
 *
 * The bundle holds no secret and no token: a development token, if any, comes from the console
 * server at run time (see server/console-server.cjs), never from the build.
 */
const fs = require('node:fs');
const path = require('node:path');
const esbuild = require('esbuild');

const workspace = path.resolve(__dirname, '../..');
const out = path.join(workspace, 'dist/apps/web-console');
const sdkBrowserBundle = path.join(workspace, 'dist/libs/client-sdk/dist/browser/seqcast-client.mjs');

async function main() {
  if (!fs.existsSync(sdkBrowserBundle)) throw new Error(`${path.relative(workspace, sdkBrowserBundle)} is missing: run nx build client-sdk first`);
  fs.rmSync(out, { recursive: true, force: true });
  await esbuild.build({
    entryPoints: [path.join(__dirname, 'src/main.tsx')],
    outfile: path.join(out, 'assets/console.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2020'],
    jsx: 'automatic',
    minify: true,
    sourcemap: true,
    tsconfig: path.join(__dirname, 'tsconfig.json'),
    alias: { '@seqcast/client': sdkBrowserBundle },
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'warning',
  });
  for (const file of ['index.html', 'styles.css']) fs.copyFileSync(path.join(__dirname, 'src', file), path.join(out, file === 'styles.css' ? 'assets/styles.css' : file));
  const kib = (fs.statSync(path.join(out, 'assets/console.js')).size / 1024).toFixed(1);
  console.log(`web-console: dist/apps/web-console ready (console.js ${kib} KiB)`);
}

main().catch((error) => {
  console.error(`web-console build: ${error.message}`);
  process.exit(1);
});
