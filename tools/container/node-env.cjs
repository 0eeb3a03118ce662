#!/usr/bin/env node
/**
 * Writes a service's node.env: the Node/V8 flags services.json gives it (`nodeOptions`) as
 * NODE_OPTIONS, which `node --env-file-if-exists=node.env main.js` (the image's CMD) applies at
 * start-up. One image per service, so only the edge-gateway gets the young-generation cap that its
 * idle sockets' memory needs, and ingest-api and the worker keep V8's default (the cap made them
 * collect garbage 5-6 times as often; docs/benchmarks.md). An operator's NODE_OPTIONS wins: node
 * lets the environment override an env file.
 *
 *   node tools/container/node-env.cjs <SERVICE> <output file>
 *
 * Plain JSON reading, no dependencies: it runs in the image's build stage.
 */
const { readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const [service = '', out = ''] = process.argv.slice(2);
const { services } = JSON.parse(readFileSync(join(__dirname, '../../services.json'), 'utf8'));
if (!Object.hasOwn(services, service) || !out) {
  process.stderr.write(`usage: node tools/container/node-env.cjs <${Object.keys(services).join('|')}> <output file>\n`);
  process.exit(1);
}
const flags = services[service].nodeOptions;
// A file for every service, so node never warns that it is missing.
writeFileSync(
  out,
  flags
    ? `# services.json nodeOptions of ${service}; NODE_OPTIONS set at run time replaces it\nNODE_OPTIONS=${flags}\n`
    : `# services.json gives ${service} no node flags\n`,
);
