#!/usr/bin/env node
// Quick-start demo: one subscriber on three rooms, one publisher sending 10 messages to each (single
// and batch endpoints, plus one deliberate retry of a message). Prints what the subscriber receives, checks
// that every room's messages arrive once, in order, with an unbroken prevSeq chain, and exits.
//
// Env: INGEST_URL (http://127.0.0.1:3000), GATEWAY_URL (http://127.0.0.1:3001), SEQCAST_JWT_SECRET
// (defaults to the development secret the services use when NODE_ENV is not production).
const jwt = require('jsonwebtoken');
const { io } = require('socket.io-client');

const INGEST_URL = process.env.INGEST_URL || 'http://127.0.0.1:3000';
const GATEWAY_URL = process.env.GATEWAY_URL || 'http://127.0.0.1:3001';
const SECRET = process.env.SEQCAST_JWT_SECRET || 'seqcast-dev-secret-do-not-use-in-production';
const ROOMS = ['demo:alpha', 'demo:beta', 'demo:gamma'];
const PER_ROOM = 10;
const run = Date.now().toString(36);

const token = jwt.sign({ sub: 'demo-user', rooms: ['demo:*'] }, SECRET, { algorithm: 'HS256', expiresIn: '10m' });

async function post(path, body) {
  const res = await fetch(INGEST_URL + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  const json = await res.json();
  if (res.status !== 202) throw new Error(`POST ${path} -> ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function main() {
  const socket = io(GATEWAY_URL, { auth: { token }, transports: ['websocket'] });
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', (e) => reject(new Error(`gateway: ${e.message}`)));
  });
  const received = new Map(ROOMS.map((r) => [r, []]));
  socket.on('messages', ({ roomId, messages }) => {
    for (const m of messages) {
      const list = received.get(roomId);
      if (list.length && m.seq <= list[list.length - 1].seq) continue; // at-least-once: drop what we hold
      list.push(m);
      console.log(`  ${roomId.padEnd(11)} seq=${String(m.seq).padStart(5)} prevSeq=${String(m.prevSeq).padStart(5)}  ${m.payload.text}`);
    }
  });
  for (const roomId of ROOMS) {
    const ack = await socket.timeout(5000).emitWithAck('subscribe', { roomId });
    if (!ack.ok) throw new Error(`subscribe ${roomId}: ${JSON.stringify(ack.error)}`);
  }

  for (let i = 1; i <= PER_ROOM; i++) {
    if (i % 2) {
      for (const roomId of ROOMS) await post(`/v1/rooms/${roomId}/messages`, { clientMsgId: `${run}-${i}`, payload: { text: `message ${i}` } });
    } else {
      await post('/v1/messages/batch', { messages: ROOMS.map((roomId) => ({ roomId, clientMsgId: `${run}-${i}`, payload: { text: `message ${i}` } })) });
    }
  }
  // A retry of message 1 (same clientMsgId, same payload): answered 202 as a duplicate, delivered
  // once. A different payload under a used clientMsgId would be refused with 409 (docs/protocol.md).
  const retry = await post(`/v1/rooms/${ROOMS[0]}/messages`, { clientMsgId: `${run}-1`, payload: { text: 'message 1' } });
  console.log(`  retry of message 1 -> 202 ${JSON.stringify(retry)}`);

  const deadline = Date.now() + 20000;
  while ([...received.values()].some((l) => l.length < PER_ROOM) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
  }
  socket.close();

  let ok = true;
  for (const [roomId, list] of received) {
    const chained = list.every((m, i) => i === 0 || m.prevSeq === list[i - 1].seq);
    const texts = list.map((m) => m.payload.text);
    const inOrder = texts.every((t, i) => t === `message ${i + 1}`);
    console.log(`${roomId}: ${list.length}/${PER_ROOM} received, chain ${chained ? 'intact' : 'BROKEN'}, order ${inOrder ? 'as published' : 'WRONG'}`);
    ok = ok && list.length === PER_ROOM && chained && inOrder;
  }
  console.log(ok ? 'demo: OK — every room delivered once, in order' : 'demo: FAILED');
  process.exit(ok ? 0 : 1);
}

main().catch((error) => {
  console.error(`demo: ${error.message}`);
  process.exit(1);
});
