#!/usr/bin/env node
// Creates the database named in DATABASE_URL (default postgres://postgres@127.0.0.1:5432/seqcast) if it
// does not exist. The services also do this at start-up; the script lets CI and the quick start fail
// early, with a clear message, when PostgreSQL itself is not reachable.
const { Client } = require('pg');

const url = new URL(process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/seqcast');
const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
if (!/^[A-Za-z0-9_]+$/.test(name)) {
  console.error(`ensure-database: database name "${name}" must be letters, digits and underscores`);
  process.exit(2);
}
const server = new URL(url);
server.pathname = '/postgres';

(async () => {
  const client = new Client({ connectionString: server.toString(), connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (error) {
    console.error(`ensure-database: cannot reach PostgreSQL at ${url.host} (${error.message}).`);
    console.error('  Start PostgreSQL or point DATABASE_URL at a reachable server.');
    process.exit(1);
  }
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount === 0) {
      await client.query(`CREATE DATABASE "${name}"`);
      console.log(`ensure-database: created database ${name}`);
    } else {
      console.log(`ensure-database: database ${name} exists`);
    }
  } catch (error) {
    // Two starters racing to create it is fine; anything else is not.
    if (error.code !== '42P04') {
      console.error(`ensure-database: ${error.message}`);
      process.exit(1);
    }
  } finally {
    await client.end();
  }
})();
