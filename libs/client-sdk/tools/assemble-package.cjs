/**
 * Second half of `nx build client-sdk`: turns tsc's output into a self-contained npm package in
 * dist/libs/client-sdk (package.json, README.md, dist/**).
 *
 * The SDK imports `@seqcast/contracts/wire` (plain wire types, no zod in its import graph) with
 * `import type` only, so tsc pulls those sources into the program (hence rootDir = workspace root
 * and a staging directory). This script keeps the SDK's JS, bundles the wire declarations under
 * dist/contracts, points the SDK's .d.ts files at them, and fails the build if
 * - the emitted JS requires anything but socket.io-client: that is the SDK's only runtime
 *   dependency, and zod must never reach browsers;
 * - any emitted .d.ts mentions zod: consumers that type-check libraries (`skipLibCheck: false`)
 *   must not need it. This is what catches an SDK import of the `@seqcast/contracts` root (or of a
 *   contracts module that imports zod) slipping past the lint rule;
 * - anything still imports a workspace alias (@seqcast/...).
 */
const fs = require('node:fs');
const path = require('node:path');

const workspace = path.resolve(__dirname, '../../..');
const projectRoot = path.join(workspace, 'libs/client-sdk');
const out = path.join(workspace, 'dist/libs/client-sdk');
const stage = path.join(out, '.tsc');
const sdkStage = path.join(stage, 'libs/client-sdk/src');
const contractsStage = path.join(stage, 'libs/shared/contracts/src');
const dist = path.join(out, 'dist');
const RUNTIME_DEPENDENCIES = new Set(['socket.io-client']);

function walk(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? walk(full) : [full];
  });
}

function copyTree(from, to, keep) {
  for (const file of walk(from).filter(keep)) {
    const target = path.join(to, path.relative(from, file));
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.copyFileSync(file, target);
  }
}

function fail(message) {
  console.error(`assemble-package: ${message}`);
  process.exit(1);
}

if (!fs.existsSync(sdkStage)) fail(`no tsc output in ${sdkStage}; run tsc -p libs/client-sdk/tsconfig.lib.json first`);

fs.rmSync(dist, { recursive: true, force: true });
copyTree(sdkStage, dist, (f) => f.endsWith('.js') || f.endsWith('.d.ts'));
copyTree(contractsStage, path.join(dist, 'contracts'), (f) => f.endsWith('.d.ts'));
// The SDK's declarations import '@seqcast/contracts/wire'; tsc emits that entry as wire.d.ts.
const WIRE_ALIAS = /(["'])@seqcast\/contracts\/wire\1/g;
const WIRE_ENTRY = path.join(dist, 'contracts', 'wire');

const problems = [];
for (const file of walk(dist)) {
  const rel = path.relative(out, file);
  let text = fs.readFileSync(file, 'utf8');
  if (file.endsWith('.d.ts') && !rel.startsWith(`dist${path.sep}contracts`)) {
    let wire = path.relative(path.dirname(file), WIRE_ENTRY).split(path.sep).join('/');
    if (!wire.startsWith('.')) wire = `./${wire}`;
    text = text.replace(WIRE_ALIAS, `'${wire}'`);
    fs.writeFileSync(file, text);
  }
  if (file.endsWith('.d.ts') && /zod/i.test(text)) {
    problems.push(`${rel} mentions zod (import only @seqcast/contracts/wire, whose graph must not import zod)`);
  }
  if (file.endsWith('.js')) {
    for (const [, specifier] of text.matchAll(/require\(["']([^"']+)["']\)/g)) {
      if (!specifier.startsWith('.') && !RUNTIME_DEPENDENCIES.has(specifier)) {
        problems.push(`${rel} requires "${specifier}" at run time`);
      }
    }
  }
  if (/["']@seqcast\//.test(text)) problems.push(`${rel} still imports a workspace alias (@seqcast/...)`);
}
if (problems.length > 0) fail(`the package would not be self-contained:\n  ${problems.join('\n  ')}`);

for (const name of ['package.json', 'README.md']) fs.copyFileSync(path.join(projectRoot, name), path.join(out, name));
fs.rmSync(stage, { recursive: true, force: true });
console.log(`assemble-package: ${path.relative(workspace, out)} is ready (${walk(dist).length} files)`);
