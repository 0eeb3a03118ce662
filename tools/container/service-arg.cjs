#!/usr/bin/env node
/**
 * docker/Dockerfile's guard on its build args: SERVICE must be a service in services.json and PORT
 * its port, so EXPOSE, PORT and the health check cannot disagree with the manifest (and so with the
 * Helm chart and the compose file, which are checked against it).
 *
 *   node tools/container/service-arg.cjs <SERVICE> <PORT>
 *
 * Plain JSON reading, no dependencies: it runs before anything is built.
 */
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const [service = '', port = ''] = process.argv.slice(2);
const { services } = JSON.parse(readFileSync(join(__dirname, '../../services.json'), 'utf8'));
const pairs = Object.entries(services).map(([name, definition]) => `${name}/${definition.port}`);
if (!Object.hasOwn(services, service) || String(services[service].port) !== port) {
  process.stderr.write(
    `build with --build-arg SERVICE=<name> --build-arg PORT=<port>, one of ${pairs.join(', ')} (services.json); got '${service}/${port}'\n`,
  );
  process.exit(1);
}
