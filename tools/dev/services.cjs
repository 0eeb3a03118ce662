#!/usr/bin/env node
/**
 * The services in services.json, one per line, for shell scripts (start-local, stop-local, the
 * container check): `<name> <port> <managementPort> <kind>`. Plain JSON reading, no dependencies:
 * it runs before `npm ci`. With a name as argument, exits 1 unless that service is listed.
 */
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const { services } = JSON.parse(readFileSync(join(__dirname, '../../services.json'), 'utf8'));
const [only] = process.argv.slice(2);
if (only !== undefined) process.exit(Object.hasOwn(services, only) ? 0 : 1);
for (const [name, service] of Object.entries(services)) {
  process.stdout.write(`${name} ${service.port} ${service.managementPort} ${service.kind}\n`);
}
