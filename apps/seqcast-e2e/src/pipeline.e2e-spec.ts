/**
 * The whole pipeline as an operator runs it: three built services as separate processes, a real
 * Kafka broker and PostgreSQL. Four publishers race over 50 rooms through both publish endpoints
 * (re-sending some clientMsgIds); three Socket.IO subscribers must each end up with every accepted
 * message exactly once, in seq order, chained, agreeing with each other and with the history API.
 */
import { signToken } from '@seqcast/auth';
import type { HistoryPage, Message, MessagesEvent, PublishResult, SubscribeAck } from '@seqcast/contracts';
import { TEST_JWT_SECRET, waitFor } from '@seqcast/testing';
import { io, type Socket } from 'socket.io-client';
import { startStack, type Stack } from './support/stack';

const ROOMS = Array.from({ length: 50 }, (_, i) => `e2e-room-${i}`);
const PUBLISHERS = 4;
const PER_PUBLISHER = 500;
const token = signToken({ sub: 'e2e-publisher', rooms: ['e2e-room-*'] }, TEST_JWT_SECRET);

interface Subscriber {
  socket: Socket;
  byRoom: Map<string, Message[]>;
  duplicatesDropped: number;
}

async function connectSubscriber(url: string): Promise<Subscriber> {
  const socket = io(url, { auth: { token }, transports: ['websocket'], reconnection: false });
  const subscriber: Subscriber = { socket, byRoom: new Map(ROOMS.map((r) => [r, []])), duplicatesDropped: 0 };
  socket.on('messages', (event: MessagesEvent) => {
    const list = subscriber.byRoom.get(event.roomId);
    if (!list) throw new Error(`messages for a room never subscribed: ${event.roomId}`);
    for (const message of event.messages) {
      // Client-side dedupe, as docs/protocol.md asks of every client.
      if (list.length > 0 && message.seq <= list[list.length - 1].seq) subscriber.duplicatesDropped++;
      else list.push(message);
    }
    // Cumulative ack, as the protocol asks; without it the gateway redelivers after its ack timeout.
    if (list.length > 0) socket.emit('ack', { roomId: event.roomId, seq: list[list.length - 1].seq });
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  for (const roomId of ROOMS) {
    const ack = (await socket.timeout(10_000).emitWithAck('subscribe', { roomId })) as SubscribeAck;
    if (!ack.ok) throw new Error(`subscribe ${roomId} failed: ${JSON.stringify(ack.error)}`);
    expect(ack.headSeq).toBe(-1);
  }
  return subscriber;
}

async function post<T>(url: string, body: unknown): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
    if (res.status === 202) return (await res.json()) as T;
    // 503 is the documented "retry with the same ids" answer; anything else fails the test.
    if (res.status !== 503 || attempt === 5) throw new Error(`POST ${url} -> ${res.status} ${await res.text()}`);
  }
}

/** One publisher: sequential requests, mixing single and batch publishes, re-sending every 20th id. */
async function publish(ingestUrl: string, publisher: number, firstCopies: Map<string, PublishResult>): Promise<number> {
  let requests = 0;
  const sent: { roomId: string; clientMsgId: string; payload: unknown }[] = [];
  let k = 0;
  while (k < PER_PUBLISHER) {
    const useBatch = k % 50 >= 40;
    const size = useBatch ? Math.min(10, PER_PUBLISHER - k) : 1;
    const items = Array.from({ length: size }, (_, j) => {
      const n = k + j;
      return { roomId: ROOMS[(publisher * 13 + n * 7) % ROOMS.length], clientMsgId: `p${publisher}-m${n}`, payload: { publisher, n } };
    });
    const results = useBatch
      ? (await post<{ results: PublishResult[] }>(`${ingestUrl}/v1/messages/batch`, { messages: items })).results
      : [
          await post<PublishResult>(`${ingestUrl}/v1/rooms/${items[0].roomId}/messages`, {
            clientMsgId: items[0].clientMsgId,
            payload: items[0].payload,
          }),
        ];
    requests++;
    results.forEach((r, j) => {
      expect(r).toMatchObject({ roomId: items[j].roomId, clientMsgId: items[j].clientMsgId });
      firstCopies.set(`${r.roomId}/${r.clientMsgId}`, r);
    });
    sent.push(...items);
    k += size;
    if (k % 20 === 0) {
      // A retry of an earlier message (same id, same payload): answered from the first copy, never a second message.
      const again = sent[Math.floor(sent.length / 2)];
      const dup = await post<PublishResult>(`${ingestUrl}/v1/rooms/${again.roomId}/messages`, {
        clientMsgId: again.clientMsgId,
        payload: again.payload,
      });
      expect(dup).toMatchObject({ duplicate: true, offset: firstCopies.get(`${again.roomId}/${again.clientMsgId}`)?.offset });
      requests++;
    }
  }
  return requests;
}

async function readHistory(ingestUrl: string, roomId: string): Promise<Message[]> {
  const all: Message[] = [];
  let afterSeq = -1;
  for (;;) {
    const res = await fetch(`${ingestUrl}/v1/rooms/${roomId}/messages?afterSeq=${afterSeq}&limit=37`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    const page = (await res.json()) as HistoryPage;
    all.push(...page.messages);
    if (page.messages.length < 37) return all;
    afterSeq = page.messages[page.messages.length - 1].seq;
  }
}

describe('ordered pipeline, end to end', () => {
  let stack: Stack;
  const subscribers: Subscriber[] = [];

  beforeAll(async () => {
    stack = await startStack({ partitions: 6 });
  });

  afterAll(async () => {
    for (const s of subscribers) s.socket.close();
    await stack?.stop();
  });

  it('delivers every accepted message once, in order, chained, identically to all subscribers and history', async () => {
    for (let i = 0; i < 3; i++) subscribers.push(await connectSubscriber(stack.gateway.url));

    const firstCopies = new Map<string, PublishResult>();
    const started = Date.now();
    const requests = await Promise.all(
      Array.from({ length: PUBLISHERS }, (_, p) => publish(stack.ingest.url, p, firstCopies)),
    );
    const publishMs = Date.now() - started;
    const expectedTotal = PUBLISHERS * PER_PUBLISHER;
    expect(firstCopies.size).toBe(expectedTotal);

    const count = (s: Subscriber) => [...s.byRoom.values()].reduce((n, l) => n + l.length, 0);
    await waitFor(() => subscribers.every((s) => count(s) >= expectedTotal), {
      timeoutMs: 90_000,
      intervalMs: 100,
      what: `all 3 subscribers to hold ${expectedTotal} messages (have ${subscribers.map(count).join('/')})`,
    });
    const deliveredMs = Date.now() - started;

    for (const roomId of ROOMS) {
      const reference = subscribers[0].byRoom.get(roomId) ?? [];
      for (const s of subscribers) {
        const list = s.byRoom.get(roomId) ?? [];
        list.forEach((m, i) => {
          expect(m.prevSeq).toBe(i === 0 ? null : list[i - 1].seq);
          if (i > 0) expect(m.seq).toBeGreaterThan(list[i - 1].seq);
        });
        expect(list).toEqual(reference);
      }
      // seq is the offset of the first accepted copy, exactly as ingest reported it.
      for (const m of reference) {
        expect(m.seq).toBe(firstCopies.get(`${roomId}/${m.clientMsgId}`)?.offset);
        expect(m.senderId).toBe('e2e-publisher');
      }
      const expectedIds = [...firstCopies.values()].filter((r) => r.roomId === roomId).map((r) => r.clientMsgId).sort();
      expect(reference.map((m) => m.clientMsgId).sort()).toEqual(expectedIds);
      expect(await readHistory(stack.ingest.url, roomId)).toEqual(reference);
    }

    console.log(
      `e2e pipeline: ${expectedTotal} messages in ${requests.reduce((a, b) => a + b, 0)} requests (single, batch, re-sends) ` +
        `to ${ROOMS.length} rooms; published in ${publishMs} ms, all delivered to 3 subscribers after ${deliveredMs} ms; ` +
        `duplicates dropped client-side: ${subscribers.map((s) => s.duplicatesDropped).join('/')}`,
    );
  });
});
