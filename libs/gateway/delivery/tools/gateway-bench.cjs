#!/usr/bin/env node
/**
 * Gateway-only measurements (no ingest, no worker): this script plays the ordering worker by
 * producing sequenced events straight to the events topic, so the figures are the gateway's own.
 * Each run starts the process under test, measures, and stops it. Compare a built gateway
 * (`dist/apps/edge-gateway/main.js`, e.g. of two commits) against a raw Socket.IO server doing
 * the same thing, in the same sitting.
 *
 *   node libs/gateway/delivery/tools/gateway-bench.cjs fanout --target seqcast --main dist/apps/edge-gateway/main.js
 *        [--sockets 2000] [--rate 50] [--batch 10] [--seconds 15] [--clients 2]
 *   node libs/gateway/delivery/tools/gateway-bench.cjs fanout --target raw [...]
 *   node libs/gateway/delivery/tools/gateway-bench.cjs idle --target seqcast|raw [--sockets 5000] [--rooms 500]
 *   node libs/gateway/delivery/tools/gateway-bench.cjs storm --main ... [--sockets 2000] [--spread-ms 10000]
 *
 * fanout: one room x N sockets (acking every frame), messages produced in batches of --batch at
 *   --rate msg/s; the raw server emits the same batches to a Socket.IO room. Prints deliveries/s
 *   and publish -> receive latency percentiles (HDR), and the gateway's CPU.
 * idle: N sockets each subscribed to one of --rooms rooms; RSS growth per socket of the server.
 * storm: N sockets subscribed (acking), 20 msg/s flowing; the gateway gets SIGTERM, a new one is
 *   started on the same host (another port: Node 20 has no reusePort) and clients move there on
 *   server_restart and resume from their cursors. Prints drain duration, time until all caught up,
 *   resume p99, lost and duplicate counts, and whether the old consumer group is gone.
 *
 * Needs the shared Kafka (127.0.0.1:9092) and PostgreSQL (127.0.0.1:5432). Throw-away databases
 * and topics are named after the run. A measuring tool only: no assertions, not run by CI.
 */
const { parseArgs } = require('node:util');
const { spawn, fork } = require('node:child_process');
const { readFileSync } = require('node:fs');
const http = require('node:http');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '../../../..');
const SECRET = 'gateway-bench-secret-0123456789abcdef';
const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    target: { type: 'string', default: 'seqcast' },
    main: { type: 'string', default: path.join(ROOT, 'dist/apps/edge-gateway/main.js') },
    sockets: { type: 'string', default: '2000' },
    rooms: { type: 'string', default: '500' },
    rate: { type: 'string', default: '50' },
    batch: { type: 'string', default: '10' },
    seconds: { type: 'string', default: '15' },
    clients: { type: 'string', default: '2' },
    'spread-ms': { type: 'string', default: '10000' },
    port: { type: 'string', default: '0' },
    role: { type: 'string', default: 'main' },
  },
});

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// Client processes: open sockets, subscribe, record latency; report on request over IPC.
// ---------------------------------------------------------------------------------------------
if (args.role === 'clients') {
  const { io } = require('socket.io-client');
  const hdr = require('hdr-histogram-js');
  const jwt = require('jsonwebtoken');
  const token = jwt.sign({ sub: 'bench', rooms: ['bench-*'] }, SECRET, { algorithm: 'HS256', expiresIn: '1h' });
  let histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000, numberOfSignificantValueDigits: 3 });
  let received = 0;
  let duplicates = 0;
  let gaps = 0;
  const sockets = [];
  /** Per socket: room -> last seq, and when the socket was told to move (storm). */
  const state = [];
  let resumeHistogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000, numberOfSignificantValueDigits: 3 });
  const moveHistogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000, numberOfSignificantValueDigits: 3 });

  function attach(i, socket, st) {
    socket.on('messages', ({ roomId, messages }) => {
      const now = Date.now();
      for (const m of messages) {
        const last = st.last.get(roomId);
        if (last !== undefined && m.seq <= last) {
          duplicates++;
          continue;
        }
        if (last !== undefined && m.prevSeq !== last) gaps++;
        st.last.set(roomId, m.seq);
        received++;
        histogram.recordValue(Math.max(1, now - Date.parse(m.sentAt)));
      }
      if (st.ack) socket.emit('ack', { roomId, seq: messages[messages.length - 1].seq });
    });
  }

  async function open(url, i, st) {
    const socket = io(url, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
    await new Promise((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    attach(i, socket, st);
    socket.on('disconnect', (reason) => (socket.benchReason = reason));
    return socket;
  }

  async function subscribe(socket, roomId, afterSeq) {
    const request = afterSeq === undefined ? { roomId } : { roomId, afterSeq };
    const ack = await socket.timeout(60_000).emitWithAck('subscribe', request);
    if (!ack.ok) throw new Error(`subscribe ${roomId}: ${JSON.stringify(ack)}`);
    return ack;
  }

  /** storm: on server_restart, wait reconnectInMs, move to the next gateway, resume. */
  function followRestarts(i) {
    const socket = sockets[i];
    const st = state[i];
    socket.once('server_restart', ({ reconnectInMs }) => {
      setTimeout(() => void move(i), reconnectInMs);
    });
    async function move() {
      socket.disconnect();
      st.resumeFrom = Date.now();
      st.resumedAt = undefined;
      for (let attempt = 0; ; attempt++) {
        try {
          const next = await open(process.env.NEXT_URL, i, st);
          const connectedAt = Date.now();
          sockets[i] = next;
          for (const [roomId, seq] of st.last) await subscribe(next, roomId, seq);
          for (const roomId of st.rooms) if (!st.last.has(roomId)) await subscribe(next, roomId, -1);
          st.movedAt = Date.now();
          st.resumedAt = st.movedAt;
          // Resume time: from the client's (successful) reconnect to its subscriptions being acked.
          resumeHistogram.recordValue(Math.max(1, st.movedAt - connectedAt));
          moveHistogram.recordValue(Math.max(1, st.movedAt - st.resumeFrom));
          return;
        } catch {
          await sleep(Math.min(2_000, 100 * 2 ** attempt));
        }
      }
    }
  }

  process.on('message', async (msg) => {
    try {
      if (msg.type === 'open') {
        const { url, count, rooms, ack, base } = msg;
        const step = 50;
        for (let i = 0; i < count; i += step) {
          await Promise.all(
            Array.from({ length: Math.min(step, count - i) }, async (_, k) => {
              const index = i + k;
              const st = { last: new Map(), rooms: [rooms[(base + index) % rooms.length]], ack };
              const socket = await open(url, index, st);
              sockets[index] = socket;
              state[index] = st;
              for (const roomId of st.rooms) await subscribe(socket, roomId);
            }),
          );
        }
        process.send({ type: 'opened' });
      } else if (msg.type === 'follow') {
        for (let i = 0; i < sockets.length; i++) followRestarts(i);
        process.send({ type: 'following' });
      } else if (msg.type === 'reset') {
        histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000, numberOfSignificantValueDigits: 3 });
        resumeHistogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000, numberOfSignificantValueDigits: 3 });
        received = 0;
        process.send({ type: 'reset' });
      } else if (msg.type === 'report') {
        process.send({
          type: 'report',
          received,
          duplicates,
          gaps,
          latency: hdr.encodeIntoCompressedBase64(histogram),
          resume: hdr.encodeIntoCompressedBase64(resumeHistogram),
          move: hdr.encodeIntoCompressedBase64(moveHistogram),
          last: state.map((st) => Object.fromEntries(st.last)),
          moved: state.filter((st) => st.movedAt !== undefined).length,
          disconnected: sockets.filter((so) => so && !so.connected).length,
          disconnectReasons: Object.fromEntries(
            [...sockets.reduce((m, so) => (so && !so.connected ? m.set(so.benchReason, (m.get(so.benchReason) ?? 0) + 1) : m), new Map())],
          ),
          resumed: state.filter((st) => st.resumedAt !== undefined).length,
        });
      } else if (msg.type === 'close') {
        for (const s of sockets) s?.disconnect();
        process.exit(0);
      }
    } catch (error) {
      process.send({ type: 'error', message: String(error?.stack ?? error) });
    }
  });
  return;
}

// ---------------------------------------------------------------------------------------------
// Raw Socket.IO server: the baseline. Joins each socket to the room it subscribes to and emits
// the batches it is handed over IPC to that room (Adapter.broadcast: encoded once).
// ---------------------------------------------------------------------------------------------
if (args.role === 'raw') {
  const { Server } = require('socket.io');
  const server = http.createServer();
  const ioServer = new Server(server, { serveClient: false, maxHttpBufferSize: 64 * 1024 });
  ioServer.on('connection', (socket) => {
    socket.on('subscribe', (request, ack) => {
      socket.join(request.roomId);
      ack({ ok: true, roomId: request.roomId, epoch: 'raw', headSeq: -1 });
    });
    socket.on('ack', () => undefined);
  });
  let seq = 0;
  let prev = null;
  process.on('message', (msg) => {
    if (msg.type === 'emit') {
      const now = new Date().toISOString();
      const messages = [];
      for (let i = 0; i < msg.count; i++) {
        seq += 1;
        messages.push({ roomId: msg.roomId, seq, prevSeq: prev, epoch: 'raw', clientMsgId: `m-${seq}`, senderId: 'bench', payload: { i: seq }, sentAt: now, sequencedAt: now });
        prev = seq;
      }
      ioServer.to(msg.roomId).emit('messages', { roomId: msg.roomId, messages });
    }
  });
  server.listen(0, '127.0.0.1', () => process.send({ type: 'listening', port: server.address().port }));
  return;
}

// ---------------------------------------------------------------------------------------------
// Main: orchestration.
// ---------------------------------------------------------------------------------------------
const { Kafka, logLevel } = require('kafkajs');
const { Client } = require('pg');
const hdr = require('hdr-histogram-js');

const run = `b${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;

function cpuTicks(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime, in clock ticks (100/s)
}
function rssBytes(pid) {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return Number(line.split(/\s+/)[1]) * 1024;
}

function once(child, type) {
  return new Promise((resolve, reject) => {
    const onMessage = (msg) => {
      if (msg.type === 'error') reject(new Error(msg.message));
      if (msg.type !== type) return;
      child.off('message', onMessage);
      resolve(msg);
    };
    child.on('message', onMessage);
  });
}

async function get(url) {
  return new Promise((resolve) => {
    http.get(url, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    }).on('error', () => resolve({ status: 0, body: '' }));
  });
}

async function waitReady(url, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await get(`${url}/readyz`)).status === 200) return;
    await sleep(200);
  }
  throw new Error(`${url} not ready`);
}

function gatewayEnv(port, topic, database, extra = {}) {
  return {
    ...process.env,
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    PORT: String(port),
    KAFKA_BROKERS: '127.0.0.1:9092',
    SEQCAST_MESSAGES_TOPIC: `${topic}.messages`,
    SEQCAST_EVENTS_TOPIC: `${topic}.events`,
    SEQCAST_PARTITIONS: '3',
    DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${database}`,
    DATABASE_RUN_MIGRATIONS: 'true',
    SEQCAST_JWT_SECRET: SECRET,
    ...extra,
  };
}

/** BENCH_CPU_PROF=<dir>: the gateway writes a V8 CPU profile there when it exits. */
function startGateway(port, env, profile = false, onLine = undefined) {
  const flags = profile && process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : [];
  const child = spawn(process.execPath, [...flags, args.main], { env, stdio: ['ignore', onLine ? 'pipe' : 'ignore', 'inherit'] });
  if (onLine) require('node:readline').createInterface({ input: child.stdout }).on('line', onLine);
  return child;
}

async function freePort() {
  return new Promise((resolve) => {
    const s = http.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function forkClients(n) {
  return Array.from({ length: n }, () => fork(__filename, ['--role', 'clients'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
}

async function openClients(clients, url, sockets, rooms, ack) {
  const per = Math.ceil(sockets / clients.length);
  await Promise.all(
    clients.map((c, k) => {
      c.send({ type: 'open', url, count: Math.min(per, sockets - k * per), rooms, ack, base: k * per });
      return once(c, 'opened');
    }),
  );
}

async function report(clients) {
  const reports = await Promise.all(clients.map((c) => (c.send({ type: 'report' }), once(c, 'report'))));
  const latency = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000, numberOfSignificantValueDigits: 3 });
  const resume = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000, numberOfSignificantValueDigits: 3 });
  const move = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000, numberOfSignificantValueDigits: 3 });
  for (const r of reports) {
    latency.add(hdr.decodeFromCompressedBase64(r.latency));
    resume.add(hdr.decodeFromCompressedBase64(r.resume));
    if (r.move) move.add(hdr.decodeFromCompressedBase64(r.move));
  }
  return {
    received: reports.reduce((s, r) => s + r.received, 0),
    duplicates: reports.reduce((s, r) => s + r.duplicates, 0),
    gaps: reports.reduce((s, r) => s + r.gaps, 0),
    moved: reports.reduce((s, r) => s + r.moved, 0),
    disconnected: reports.reduce((s, r) => s + r.disconnected, 0),
    disconnectReasons: reports.map((r) => r.disconnectReasons),
    resumed: reports.reduce((s, r) => s + r.resumed, 0),
    last: reports.flatMap((r) => r.last),
    latency,
    resume,
    move,
  };
}

/** Plays the ordering worker: PostgreSQL rows first, then the events topic. */
class Publisher {
  constructor(topic, database) {
    this.topic = `${topic}.events`;
    this.database = database;
    this.kafka = new Kafka({ clientId: 'gateway-bench', brokers: ['127.0.0.1:9092'], logLevel: logLevel.NOTHING });
    this.producer = this.kafka.producer({ allowAutoTopicCreation: false });
    this.prev = new Map();
    this.seq = 0;
    this.sent = new Map();
  }
  async connect() {
    this.pg = new Client({ connectionString: `postgres://postgres@127.0.0.1:5432/${this.database}` });
    await this.pg.connect();
    this.epoch = (await this.pg.query(`SELECT value FROM seqcast_meta WHERE key = 'epoch'`)).rows[0].value;
    await this.producer.connect();
    this.partitionOf = await this.partitioner();
  }
  /** The room's partition as the worker picks it: Java-compatible murmur2 of the room id. */
  async partitioner() {
    const { Partitioners } = require('kafkajs');
    const pick = Partitioners.DefaultPartitioner();
    return (roomId) =>
      pick({ topic: this.topic, partitionMetadata: [0, 1, 2].map((partitionId) => ({ partitionId, leader: 0 })), message: { key: roomId } });
  }
  async publish(roomId, count) {
    const now = new Date().toISOString();
    const messages = [];
    for (let i = 0; i < count; i++) {
      this.seq += 1 + (this.seq % 3);
      const m = { roomId, seq: this.seq, prevSeq: this.prev.get(roomId) ?? null, epoch: this.epoch, clientMsgId: `${run}-${this.seq}`, senderId: 'bench', payload: { i: this.seq }, sentAt: now, sequencedAt: now };
      this.prev.set(roomId, this.seq);
      messages.push(m);
    }
    const values = [];
    const params = [];
    messages.forEach((m, k) => {
      const b = k * 10;
      values.push(`($${b + 1},$${b + 2},$${b + 3},$${b + 4},$${b + 5},$${b + 6},$${b + 7},$${b + 8},$${b + 9},$${b + 10})`);
      params.push(m.epoch, m.roomId, m.seq, m.prevSeq, this.partitionOf(roomId), m.clientMsgId, m.senderId, JSON.stringify(m.payload), m.sentAt, m.sequencedAt);
    });
    await this.pg.query(
      `INSERT INTO seqcast_messages (epoch, room_id, seq, prev_seq, partition, client_msg_id, sender_id, payload, sent_at, sequenced_at) VALUES ${values.join(',')}`,
      params,
    );
    await this.producer.send({
      topic: this.topic,
      messages: messages.map((m) => ({ key: roomId, value: JSON.stringify(m), partition: this.partitionOf(roomId) })),
    });
    this.sent.set(roomId, (this.sent.get(roomId) ?? 0) + count);
    return messages;
  }
  async close() {
    await this.producer.disconnect().catch(() => undefined);
    await this.pg?.end().catch(() => undefined);
  }
}

async function groupsLeft(groups) {
  const kafka = new Kafka({ clientId: 'gateway-bench', brokers: ['127.0.0.1:9092'], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const left = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => groups.includes(g));
  await admin.disconnect();
  return left;
}

async function dropRun(topic, database, groups = []) {
  const kafka = new Kafka({ clientId: 'gateway-bench', brokers: ['127.0.0.1:9092'], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const remaining = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => groups.includes(g));
  await admin.deleteTopics({ topics: [`${topic}.events`, `${topic}.messages`] }).catch(() => undefined);
  await admin.deleteGroups(remaining).catch(() => undefined);
  await admin.disconnect();
  const pg = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await pg.connect();
  await pg.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`).catch(() => undefined);
  await pg.end();
  return remaining;
}

function pct(h) {
  return { p50: h.getValueAtPercentile(50), p99: h.getValueAtPercentile(99), max: h.maxValue, n: h.totalCount };
}

async function fanout() {
  const sockets = Number(args.sockets);
  const rate = Number(args.rate);
  const batch = Number(args.batch);
  const seconds = Number(args.seconds);
  const roomId = `bench-fanout-${run}`;
  const topic = `bench.${run}`;
  const database = `bench_${run}`;
  let server;
  let url;
  let publisher;
  if (args.target === 'raw') {
    server = fork(__filename, ['--role', 'raw'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const { port } = await once(server, 'listening');
    url = `http://127.0.0.1:${port}`;
  } else {
    const port = await freePort();
    server = startGateway(port, gatewayEnv(port, topic, database));
    url = `http://127.0.0.1:${port}`;
    await waitReady(url);
    publisher = new Publisher(topic, database);
    await publisher.connect();
  }
  const clients = forkClients(Number(args.clients));
  try {
    await openClients(clients, url, sockets, [roomId], true);
    const emit = async () => {
      if (args.target === 'raw') server.send({ type: 'emit', roomId, count: batch });
      else await publisher.publish(roomId, batch);
    };
    // Warm-up, then the measured window.
    const interval = (1000 * batch) / rate;
    const tick = async (untilMs) => {
      let next = Date.now();
      while (Date.now() < untilMs) {
        await emit();
        next += interval;
        await sleep(Math.max(0, next - Date.now()));
      }
    };
    await tick(Date.now() + 3_000);
    await sleep(1_000);
    await Promise.all(clients.map((c) => (c.send({ type: 'reset' }), once(c, 'reset'))));
    const cpu0 = cpuTicks(server.pid);
    const t0 = Date.now();
    await tick(t0 + seconds * 1000);
    const produced = Math.round(((Date.now() - t0) / interval) * batch);
    // Let the tail arrive (bounded), then read.
    const expected = produced * sockets;
    const deadline = Date.now() + 15_000;
    let r = await report(clients);
    while (r.received < expected && Date.now() < deadline) {
      await sleep(500);
      r = await report(clients);
    }
    const elapsed = (Date.now() - t0) / 1000;
    const cpuSeconds = (cpuTicks(server.pid) - cpu0) / 100;
    const cpu = cpuSeconds / elapsed;
    const l = pct(r.latency);
    const result = {
      scenario: 'fanout',
      target: args.target,
      main: args.target === 'raw' ? undefined : args.main,
      sockets,
      rate,
      batch,
      seconds,
      deliveriesPerSec: Math.round(r.received / seconds),
      delivered: r.received,
      expected,
      duplicates: r.duplicates,
      gaps: r.gaps,
      p50: l.p50,
      p99: l.p99,
      max: l.max,
      serverCpu: Number(cpu.toFixed(2)),
      /** The server's CPU per 1,000 deliveries: robust against a busy box, unlike latency. */
      serverCpuMsPer1k: Number(((cpuSeconds * 1000 * 1000) / Math.max(1, r.received)).toFixed(3)),
    };
    console.log(JSON.stringify(result));
  } finally {
    for (const c of clients) c.kill();
    server.kill('SIGKILL');
    await publisher?.close();
    if (args.target !== 'raw') await dropRun(topic, database, []);
  }
}

async function idle() {
  const sockets = Number(args.sockets);
  const rooms = Array.from({ length: Number(args.rooms) }, (_, i) => `bench-idle-${run}-${i}`);
  const topic = `bench.${run}`;
  const database = `bench_${run}`;
  let server;
  let url;
  if (args.target === 'raw') {
    server = fork(__filename, ['--role', 'raw'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
    const { port } = await once(server, 'listening');
    url = `http://127.0.0.1:${port}`;
  } else {
    const port = await freePort();
    server = startGateway(port, gatewayEnv(port, topic, database));
    url = `http://127.0.0.1:${port}`;
    await waitReady(url);
  }
  const clients = forkClients(Number(args.clients));
  try {
    // A few sockets first so lazily loaded code and first-use allocations are in the baseline.
    await openClients(clients.slice(0, 1), url, 20, rooms.slice(0, 20), false);
    await sleep(3_000);
    const before = rssBytes(server.pid);
    await openClients(clients, url, sockets, rooms, false);
    await sleep(5_000);
    const after = rssBytes(server.pid);
    console.log(
      JSON.stringify({
        scenario: 'idle',
        target: args.target,
        main: args.target === 'raw' ? undefined : args.main,
        sockets,
        rooms: rooms.length,
        rssBeforeMiB: Number((before / 2 ** 20).toFixed(1)),
        rssAfterMiB: Number((after / 2 ** 20).toFixed(1)),
        kbPerSocket: Number(((after - before) / sockets / 1024).toFixed(1)),
      }),
    );
  } finally {
    for (const c of clients) c.kill();
    server.kill('SIGKILL');
    if (args.target !== 'raw') await dropRun(topic, database, []);
  }
}

async function storm() {
  const sockets = Number(args.sockets);
  const rooms = Array.from({ length: Math.max(1, Math.floor(sockets / 10)) }, (_, i) => `bench-storm-${run}-${i}`);
  const topic = `bench.${run}`;
  const database = `bench_${run}`;
  const spreadMs = Number(args['spread-ms']);
  const portA = await freePort();
  const portB = await freePort();
  const drainEnv = { GATEWAY_DRAIN_SPREAD_MS: String(spreadMs), GATEWAY_DRAIN_TIMEOUT_MS: String(spreadMs + 20_000) };
  const drainLog = { ms: null };
  const a = startGateway(portA, gatewayEnv(portA, topic, database, { ...drainEnv, LOG_LEVEL: 'log' }), false, (line) => {
    const m = /drained \d+ sockets in (\d+) ms/.exec(line);
    if (m) drainLog.ms = Number(m[1]);
  });
  const urlA = `http://127.0.0.1:${portA}`;
  const urlB = `http://127.0.0.1:${portB}`;
  await waitReady(urlA);
  const groupA = `seqcast-gateway-${require('node:os').hostname().replace(/[^A-Za-z0-9._-]/g, '-')}-${a.pid}`;
  const publisher = new Publisher(topic, database);
  await publisher.connect();
  const clients = Array.from({ length: Number(args.clients) }, () =>
    fork(__filename, ['--role', 'clients'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, NEXT_URL: urlB } }),
  );
  let b;
  let stopPublishing = false;
  try {
    await openClients(clients, urlA, sockets, rooms, true);
    await Promise.all(clients.map((c) => (c.send({ type: 'follow' }), once(c, 'following'))));
    // 20 msg/s over the rooms, all through the restart.
    const publishing = (async () => {
      let k = 0;
      while (!stopPublishing) {
        await publisher.publish(rooms[k++ % rooms.length], 1);
        await sleep(50);
      }
    })();
    await sleep(2_000);
    const exitedA = new Promise((resolve) => a.once('exit', (code) => resolve({ code, at: Date.now() })));
    const t0 = Date.now();
    a.kill('SIGTERM');
    // The deploy starts the new process at once; on one host without reusePort it needs its own port.
    let warned = 0;
    b = startGateway(portB, gatewayEnv(portB, topic, database, drainEnv), true, (line) => {
      if (process.env.BENCH_DEBUG && /"level":"(warn|error)"/.test(line) && warned++ < 20) console.error(`new gateway: ${line}`);
    });
    await waitReady(urlB);
    const readyB = Date.now() - t0;
    // All caught up: every socket has moved and holds the last seq of its room.
    let caughtUpAt;
    let r;
    const deadline = t0 + spreadMs + 60_000;
    // "Caught up": moved, and holding everything its room had 2 s earlier (live latency allowance).
    const snapshots = [];
    for (;;) {
      snapshots.push({ at: Date.now(), prev: new Map(publisher.prev) });
      while (snapshots.length > 1 && snapshots[1].at <= Date.now() - 2_000) snapshots.shift();
      const lastSent = snapshots[0].prev;
      r = await report(clients);
      const behind = r.last.filter((held) =>
        Object.entries(held).some(([roomId, seq]) => seq < (lastSent.get(roomId) ?? -1)),
      ).length;
      if (r.moved === sockets && behind === 0) {
        caughtUpAt = snapshots[0].at - t0;
        break;
      }
      if (Date.now() > deadline) break;
      await sleep(250);
    }
    stopPublishing = true;
    await publishing;
    // Lost: a socket's last seq still behind its room's last published seq once things settled
    // (up to 60 s on a busy box).
    let lost = 0;
    const settleBy = Date.now() + 60_000;
    do {
      await sleep(1_000);
      r = await report(clients);
      lost = 0;
      for (const held of r.last) for (const [roomId, seq] of Object.entries(held)) if (seq < publisher.prev.get(roomId)) lost++;
    } while (lost > 0 && Date.now() < settleBy);
    const settledMs = Date.now() - t0;
    if (lost > 0 && process.env.BENCH_DEBUG) {
      const behindSamples = r.last
        .map((held, i) => ({ i, held, want: Object.fromEntries(Object.keys(held).map((k) => [k, publisher.prev.get(k)])) }))
        .filter((x) => Object.entries(x.held).some(([k, v]) => v < x.want[k]))
        .slice(0, 5);
      console.error(JSON.stringify(behindSamples));
    }
    const exit = await exitedA;
    const remaining = await groupsLeft([groupA]);
    const rs = pct(r.resume);
    const mv = pct(r.move);
    console.log(
      JSON.stringify({
        scenario: 'storm',
        main: args.main,
        sockets,
        spreadMs,
        newReadyMs: readyB,
        drainMs: exit.at - t0,
        oldExitCode: exit.code,
        caughtUpMs: caughtUpAt ?? null,
        resumeP50: rs.p50,
        resumeP99: rs.p99,
        moveP50: mv.p50,
        moveP99: mv.p99,
        drainLogMs: drainLog.ms,
        moved: r.moved,
        socketsBehind: lost,
        disconnectedAtEnd: r.disconnected,
        disconnectReasons: r.disconnectReasons,
        settledMs,
        duplicates: r.duplicates,
        gaps: r.gaps,
        orphanedGroup: remaining.length > 0,
      }),
    );
  } finally {
    stopPublishing = true;
    for (const c of clients) c.kill();
    a.kill('SIGKILL');
    if (b && b.exitCode === null) {
      const exited = new Promise((resolve) => b.once('exit', resolve));
      b.kill('SIGTERM');
      await Promise.race([exited, sleep(spreadMs + 25_000)]);
    }
    await publisher.close();
    await dropRun(topic, database, [groupA]).catch(() => undefined);
  }
}

const scenario = positionals[0];
const scenarios = { fanout, idle, storm };
if (!scenarios[scenario]) {
  console.error(`usage: gateway-bench.cjs fanout|idle|storm [options] (see the header)`);
  process.exit(2);
}
scenarios[scenario]().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
