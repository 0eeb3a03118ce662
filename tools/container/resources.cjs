#!/usr/bin/env node
/**
 * Throw-away PostgreSQL database and Kafka names for tools/container/check.sh. Runs with the
 * workspace's node_modules (only the services under test are cut off from them).
 *
 *   resources.cjs create            prints shell assignments: DB_NAME, DATABASE_URL, topics, group ids
 *   resources.cjs drop DB_NAME RUN  drops the database and deletes the run's topics and groups
 *
 * Environment: SEQCAST_TEST_PG_URL (server URL used to create/drop, default
 * postgres://postgres@127.0.0.1:5432/postgres), KAFKA_BROKERS (default 127.0.0.1:9092).
 */
const { randomBytes } = require('node:crypto');
const { Client } = require('pg');
const { Kafka, logLevel } = require('kafkajs');

const serverUrl = process.env.SEQCAST_TEST_PG_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const brokers = (process.env.KAFKA_BROKERS || '127.0.0.1:9092')
  .split(',')
  .map((b) => b.trim())
  .filter(Boolean);

async function withPg(fn) {
  const client = new Client({ connectionString: serverUrl, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const names = (run) => ({
  messagesTopic: `container-check.${run}.messages`,
  eventsTopic: `container-check.${run}.events`,
  workerGroup: `container-check-${run}`,
  gatewayInstance: `container-check-${run}`,
});

async function create() {
  const run = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const dbName = `seqcast_container_check_${run.replace(/-/g, '_')}`;
  await withPg((client) => client.query(`CREATE DATABASE "${dbName}"`));
  const url = new URL(serverUrl);
  url.pathname = `/${dbName}`;
  const n = names(run);
  const vars = {
    RUN_ID: run,
    DB_NAME: dbName,
    DATABASE_URL: url.toString(),
    MESSAGES_TOPIC: n.messagesTopic,
    EVENTS_TOPIC: n.eventsTopic,
    WORKER_GROUP: n.workerGroup,
    GATEWAY_INSTANCE: n.gatewayInstance,
  };
  for (const [k, v] of Object.entries(vars)) process.stdout.write(`${k}='${v}'\n`);
}

async function drop(dbName, run) {
  if (!/^seqcast_container_check_[a-z0-9_]+$/.test(dbName))
    throw new Error(`refusing to drop "${dbName}": not a container-check database`);
  await withPg((client) => client.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`));
  const n = names(run);
  const admin = new Kafka({ clientId: 'seqcast-container-check', brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const topics = [n.messagesTopic, n.eventsTopic].filter((t) => existing.has(t));
    if (topics.length > 0) await admin.deleteTopics({ topics });
    const groups = (await admin.listGroups()).groups
      .map((g) => g.groupId)
      .filter((g) => g.includes(`container-check-${run}`));
    if (groups.length > 0) await admin.deleteGroups(groups).catch(() => undefined);
  } finally {
    await admin.disconnect();
  }
}

const [command, ...args] = process.argv.slice(2);
const run = command === 'create' ? create() : command === 'drop' && args.length === 2 ? drop(args[0], args[1]) : null;
if (!run) {
  console.error('usage: resources.cjs create | drop DB_NAME RUN_ID');
  process.exit(2);
}
run.catch((error) => {
  console.error(`resources.cjs ${command}: ${error.message}`);
  process.exit(1);
});
