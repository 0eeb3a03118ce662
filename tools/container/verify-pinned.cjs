#!/usr/bin/env node
/**
 * Proves that a service's production install used the versions the workspace lockfile pins:
 *
 *   verify-pinned.cjs APP_DIR ROOT_LOCKFILE
 *
 * Every package npm installed under APP_DIR (per the lockfile npm wrote there) must appear in the
 * root lockfile with the same version, and every dependency in APP_DIR/package.json must be
 * installed. Otherwise the image would run code that no test in the workspace ever ran.
 */
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const [appDir, rootLockPath] = process.argv.slice(2);
if (!appDir || !rootLockPath) {
  console.error('usage: verify-pinned.cjs APP_DIR ROOT_LOCKFILE');
  process.exit(2);
}

const read = (file) => JSON.parse(readFileSync(file, 'utf8'));
const app = read(join(appDir, 'package.json'));
const appLock = read(join(appDir, 'package-lock.json'));
const rootLock = read(rootLockPath);

/** name -> Set of versions, from a lockfile's "packages" map (keys like "node_modules/a/node_modules/b"). */
function versionsByName(lock) {
  const byName = new Map();
  for (const [key, entry] of Object.entries(lock.packages ?? {})) {
    if (key === '' || entry.link) continue;
    const name = entry.name ?? key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length);
    if (!byName.has(name)) byName.set(name, new Set());
    byName.get(name).add(entry.version);
  }
  return byName;
}

const pinned = versionsByName(rootLock);
const installed = versionsByName(appLock);
const problems = [];

for (const [name, versions] of installed) {
  for (const version of versions) {
    if (!pinned.get(name)?.has(version)) {
      const known = [...(pinned.get(name) ?? [])].join(', ') || 'not in it at all';
      problems.push(`${name}@${version} is not pinned by the workspace lockfile (it has: ${known})`);
    }
  }
}
for (const name of Object.keys(app.dependencies ?? {})) {
  if (!installed.has(name)) problems.push(`${name} is a dependency of ${app.name} but was not installed`);
}

if (problems.length > 0) {
  console.error(
    `verify-pinned: ${app.name}: ${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join('\n')}`,
  );
  process.exit(1);
}
const count = [...installed.values()].reduce((n, v) => n + v.size, 0);
console.log(`verify-pinned: ${app.name}: ${count} packages, all at the versions the workspace lockfile pins`);
