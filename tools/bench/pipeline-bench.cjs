#!/usr/bin/env node
/**
 * Pipeline benchmark against a running local stack (`npm run start:local`): publishers over HTTP,
 * subscribers over Socket.IO, both on loopback. Prints publish throughput, 202 round-trip latency,
 * end-to-end delivery latency (sentAt -> subscriber receive) percentiles, and correctness counters
 * (every message delivered once per subscriber, in order). Bounded in count and time; exits by itself.
 *
 *   node tools/bench/pipeline-bench.cjs [--messages 10000] [--rooms 50] [--concurrency 32]
 *                                       [--batch 0] [--subscribers 3] [--timeout-s 180]
 *
 * Env: INGEST_URL (http://127.0.0.1:3000), GATEWAY_URL (http://127.0.0.1:3001), SEQCAST_JWT_SECRET,
 * *_MANAGEMENT_URL (ports 9000-9002) for memory figures. The publisher is one principal: start the
 * services with INGEST_PUBLISH_RATE_PER_SEC=0 (and GATEWAY_MAX_CONNECTIONS_PER_PRINCIPAL=0 for many
 * subscribers) or the rate limit is what gets measured.
 */
const { parseArgs } = require('node:util');
const jwt = require('jsonwebtoken');
const hdr = require('hdr-histogram-js');
const cliProgress = require('cli-progress');
const { io } = require('socket.io-client');

const { values: args } = parseArgs({
  options: {
    messages: { type: 'string', default: '10000' },
    rooms: { type: 'string', default: '50' },
    concurrency: { type: 'string', default: '32' },
    batch: { type: 'string', default: '0' },
    subscribers: { type: 'string', default: '3' },
    'timeout-s': { type: 'string', default: '180' },
  },
});
const N = Number(args.messages);
const ROOMS = Array.from({ length: Number(args.rooms) }, (_, i) => `bench:room-${i}`);
const CONCURRENCY = Number(args.concurrency);
const BATCH = Number(args.batch);
const SUBSCRIBERS = Number(args.subscribers);
const DEADLINE = Date.now() + Number(args['timeout-s']) * 1000;
const INGEST_URL = process.env.INGEST_URL || 'http://127.0.0.1:3000';
const GATEWAY_URL = process.env.GATEWAY_URL || 'http://127.0.0.1:3001';
const SECRET = process.env.SEQCAST_JWT_SECRET || 'seqcast-dev-secret-do-not-use-in-production';
const token = jwt.sign({ sub: 'bench', rooms: ['bench:*'] }, SECRET, { algorithm: 'HS256', expiresIn: '1h' });
const run = Date.now().toString(36);

const newHistogram = () => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000, numberOfSignificantValueDigits: 3 });
const ackLatency = newHistogram(); // ms, 202 round trip
const e2eLatency = newHistogram(); // ms, sentAt -> received

async function connect() {
  const socket = io(GATEWAY_URL, { auth: { token }, transports: ['websocket'], reconnection: false });
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', (e) => reject(new Error(`gateway ${GATEWAY_URL}: ${e.message}`)));
  });
  const state = { socket, received: 0, duplicates: 0, outOfOrder: 0, last: new Map() };
  socket.on('messages', ({ roomId, messages }) => {
    const now = Date.now();
    for (const m of messages) {
      const last = state.last.get(roomId);
      if (last !== undefined && m.seq <= last) { state.duplicates++; continue; }
      if (last !== undefined && m.prevSeq !== last) state.outOfOrder++;
      state.last.set(roomId, m.seq);
      if (!String(m.clientMsgId).startsWith(run)) continue; // earlier runs' history
      state.received++;
      e2eLatency.recordValue(Math.max(1, now - Date.parse(m.sentAt)));
    }
    // Cumulative ack (protocol: ack { roomId, seq }) so gateways with redelivery do not resend.
    socket.emit('ack', { roomId, seq: messages[messages.length - 1].seq });
  });
  for (const roomId of ROOMS) {
    const ack = await socket.timeout(10000).emitWithAck('subscribe', { roomId });
    if (!ack.ok) throw new Error(`subscribe ${roomId}: ${JSON.stringify(ack.error)}`);
  }
  return state;
}

async function post(path, body) {
  const started = performance.now();
  const res = await fetch(INGEST_URL + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  if (res.status !== 202) throw new Error(`POST ${path} -> ${res.status} ${await res.text()}`);
  await res.arrayBuffer();
  ackLatency.recordValue(Math.max(1, Math.round(performance.now() - started)));
}

/** /metrics is served on each service's management port (MANAGEMENT_PORT), never on the public one. */
const INGEST_MANAGEMENT_URL = process.env.INGEST_MANAGEMENT_URL || 'http://127.0.0.1:9000';
const GATEWAY_MANAGEMENT_URL = process.env.GATEWAY_MANAGEMENT_URL || 'http://127.0.0.1:9001';
const WORKER_MANAGEMENT_URL = process.env.WORKER_MANAGEMENT_URL || 'http://127.0.0.1:9002';

/** Resident memory of each service, from its own /metrics (prom-client process defaults). */
async function serviceMemory() {
  const out = [];
  for (const [name, url] of [
    ['ingest-api', INGEST_MANAGEMENT_URL],
    ['ordering-worker', WORKER_MANAGEMENT_URL],
    ['edge-gateway', GATEWAY_MANAGEMENT_URL],
  ]) {
    try {
      const text = await (await fetch(`${url}/metrics`)).text();
      const rss = /^process_resident_memory_bytes(?:\{[^}]*\})? (\d+)/m.exec(text);
      out.push(`${name} ${rss ? (Number(rss[1]) / 2 ** 20).toFixed(0) + ' MiB' : 'n/a'}`);
    } catch {
      out.push(`${name} n/a`);
    }
  }
  return out.join(', ');
}

async function main() {
  const subscribers = [];
  for (let i = 0; i < SUBSCRIBERS; i++) subscribers.push(await connect());

  // Progress bars only on a terminal; piped output (CI logs, docs) gets just the figures.
  const bars = process.stdout.isTTY
    ? new cliProgress.MultiBar({ clearOnComplete: false, hideCursor: true, format: ' {name} |{bar}| {value}/{total}' }, cliProgress.Presets.shades_grey)
    : { create: () => ({ increment() {}, update() {} }), stop() {} };
  const pubBar = bars.create(N, 0, { name: 'published' });
  const delBar = bars.create(N * SUBSCRIBERS, 0, { name: 'delivered' });

  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < N && Date.now() < DEADLINE) {
      const size = BATCH > 0 ? Math.min(BATCH, N - next) : 1;
      const first = next;
      next += size;
      const items = Array.from({ length: size }, (_, j) => ({
        roomId: ROOMS[(first + j) % ROOMS.length],
        clientMsgId: `${run}-${first + j}`,
        payload: { n: first + j, text: 'x'.repeat(64) },
      }));
      if (BATCH > 0) await post('/v1/messages/batch', { messages: items });
      else await post(`/v1/rooms/${items[0].roomId}/messages`, { clientMsgId: items[0].clientMsgId, payload: items[0].payload });
      pubBar.increment(size);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const publishSeconds = (performance.now() - started) / 1000;

  const total = () => subscribers.reduce((n, s) => n + s.received, 0);
  while (total() < N * SUBSCRIBERS && Date.now() < DEADLINE) {
    delBar.update(total());
    await new Promise((r) => setTimeout(r, 100));
  }
  delBar.update(total());
  const deliveredSeconds = (performance.now() - started) / 1000;
  bars.stop();
  for (const s of subscribers) s.socket.close();

  const p = (h, q) => h.getValueAtPercentile(q);
  const lines = [
    `messages ${N} to ${ROOMS.length} rooms, ${BATCH > 0 ? `batches of ${BATCH}` : 'single publishes'}, concurrency ${CONCURRENCY}, ${SUBSCRIBERS} subscribers`,
    `publish: ${(N / publishSeconds).toFixed(0)} msg/s (${publishSeconds.toFixed(1)} s); 202 round trip ms p50 ${p(ackLatency, 50)} p99 ${p(ackLatency, 99)} max ${ackLatency.maxValue}`,
    `delivery (sentAt -> subscriber) ms: p50 ${p(e2eLatency, 50)} p90 ${p(e2eLatency, 90)} p99 ${p(e2eLatency, 99)} max ${e2eLatency.maxValue}`,
    `delivered ${total()}/${N * SUBSCRIBERS} after ${deliveredSeconds.toFixed(1)} s; duplicates dropped ${subscribers.map((s) => s.duplicates).join('/')}; chain breaks ${subscribers.map((s) => s.outOfOrder).join('/')}`,
    `resident memory after the run: ${await serviceMemory()}`,
  ];
  console.log(lines.join('\n'));
  process.exit(total() === N * SUBSCRIBERS && subscribers.every((s) => s.outOfOrder === 0) ? 0 : 1);
}

main().catch((error) => {
  console.error(`bench: ${error.message}`);
  process.exit(1);
});
