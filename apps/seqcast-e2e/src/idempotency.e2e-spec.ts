/**
 * Idempotency is per sender, end to end (docs/protocol.md "Idempotency"): built services as
 * processes, the real broker and PostgreSQL. Two senders that both number their messages from 1
 * both get their messages; a retry is answered as a duplicate; a re-used key with a different
 * payload is refused with 409 by the instance that remembers the key, and dead-lettered and counted
 * by the worker when it reaches the log through an instance that does not.
 */
import {
  batchPublishResultSchema,
  type ErrorEnvelope,
  type HistoryPage,
  type PublishResult,
  publishResultSchema,
} from '@seqcast/contracts';
import { waitFor } from '@seqcast/testing';
import { Client } from 'pg';
import { e2eToken } from './support/http-publisher';
import { scrapeMetric } from './support/metrics';
import { RawSubscriber } from './support/raw-subscriber';
import { startStack, type Stack } from './support/stack';

const ROOM = 'idem-room';

async function post(baseUrl: string, path: string, sender: string, body: unknown) {
  const res = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${e2eToken(sender)}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as unknown };
}

function publish(baseUrl: string, sender: string, clientMsgId: string, payload: unknown) {
  return post(baseUrl, `/v1/rooms/${ROOM}/messages`, sender, { clientMsgId, payload });
}

/** A 202 whose body is exactly the documented PublishResult. */
function accepted(reply: { status: number; body: unknown }): PublishResult {
  expect(reply).toMatchObject({ status: 202 });
  const parsed = publishResultSchema.safeParse(reply.body);
  if (!parsed.success) throw new Error(`202 body breaks the contract: ${JSON.stringify(reply.body)}`);
  return parsed.data;
}

async function history(baseUrl: string): Promise<HistoryPage> {
  const res = await fetch(`${baseUrl}/v1/rooms/${ROOM}/messages?limit=1000`, {
    headers: { authorization: `Bearer ${e2eToken('reader')}` },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as HistoryPage;
}

/** What an application shows: the protocol allows redelivery, clients drop seqs they hold. */
function shown(subscriber: RawSubscriber | undefined) {
  const bySeq = new Map((subscriber?.messages(ROOM) ?? []).map((m) => [m.seq, m]));
  return [...bySeq.values()];
}

describe('idempotency per sender, end to end', () => {
  let stack: Stack;
  let subscriber: RawSubscriber | undefined;

  beforeAll(async () => {
    stack = await startStack({ partitions: 3 });
  });

  afterAll(async () => {
    subscriber?.close();
    await stack?.stop();
  });

  it('keeps both senders\' c-0001, answers retries as duplicates and never lets a re-used key pass silently', async () => {
    const ingest = stack.ingest.url;
    subscriber = await RawSubscriber.connect(stack.gateway.url, 'watcher');
    await subscriber.subscribe({ roomId: ROOM, afterSeq: -1 });

    // Two honest clients that both number from 1.
    const alice = accepted(await publish(ingest, 'alice', 'c-0001', { text: 'from alice', n: 1 }));
    const bob = accepted(await publish(ingest, 'bob', 'c-0001', { text: 'from bob' }));
    expect(alice.duplicate).toBe(false);
    expect(bob.duplicate).toBe(false);
    expect(bob.offset).toBeGreaterThan(alice.offset);

    const delivered = await waitFor(() => (shown(subscriber).length === 2 ? shown(subscriber) : undefined), {
      timeoutMs: 30_000,
      what: 'both c-0001 messages delivered',
    });
    expect(delivered.map((m) => [m.senderId, m.clientMsgId, m.seq, m.payload])).toEqual([
      ['alice', 'c-0001', alice.offset, { text: 'from alice', n: 1 }],
      ['bob', 'c-0001', bob.offset, { text: 'from bob' }],
    ]);
    expect(delivered[1].prevSeq).toBe(alice.offset);

    // alice retries (keys in another order are the same payload): a duplicate, with its seq now stored.
    const retry = accepted(await publish(ingest, 'alice', 'c-0001', { n: 1, text: 'from alice' }));
    expect(retry).toEqual({ ...alice, duplicate: true, seq: alice.offset });
    const batch = await post(ingest, '/v1/messages/batch', 'bob', {
      messages: [
        { roomId: ROOM, clientMsgId: 'c-0002', payload: 2 },
        { roomId: ROOM, clientMsgId: 'c-0001', payload: { text: 'from bob' } },
      ],
    });
    expect(batch.status).toBe(202);
    const { results } = batchPublishResultSchema.parse(batch.body);
    expect(results.map((r) => [r.clientMsgId, r.duplicate, r.seq])).toEqual([
      ['c-0002', false, undefined],
      ['c-0001', true, bob.offset],
    ]);

    // alice re-uses her key for another message on the same instance: refused, nothing written.
    const refused = await publish(ingest, 'alice', 'c-0001', { text: 'edited' });
    expect(refused.status).toBe(409);
    expect((refused.body as ErrorEnvelope).error).toEqual({
      code: 'idempotency_conflict',
      message: expect.stringContaining('clientMsgId "c-0001" was already used by this sender'),
    });

    // The same through an instance that never saw alice's key: accepted into the log (it cannot
    // know without a database read), then dead-lettered by the worker, counted, and history keeps
    // the first payload.
    const conflictsBefore = await scrapeMetric(stack.worker.managementUrl, 'seqcast_worker_idempotency_conflicts_total');
    const other = await stack.spawn('ingest-api');
    const slipped = accepted(await publish(other.url, 'alice', 'c-0001', { text: 'edited' }));
    expect(slipped.duplicate).toBe(false);
    await waitFor(
      async () =>
        (await scrapeMetric(stack.worker.managementUrl, 'seqcast_worker_idempotency_conflicts_total')) === conflictsBefore + 1,
      { timeoutMs: 30_000, what: 'the worker to count the conflict' },
    );
    const db = new Client({ connectionString: stack.database.url });
    await db.connect();
    try {
      const letters = await db.query<{ offset: string; reason: string; key: string }>(
        `SELECT "offset", reason, key FROM seqcast_dead_letters WHERE partition = $1`,
        [slipped.partition],
      );
      expect(letters.rows).toEqual([
        {
          offset: String(slipped.offset),
          key: ROOM,
          reason: expect.stringMatching(
            new RegExp(`^idempotency_conflict: sender "alice" re-used clientMsgId "c-0001" in room "${ROOM}" .*seq ${alice.offset}`),
          ),
        },
      ]);
    } finally {
      await db.end();
    }

    const page = await history(ingest);
    expect(page.messages.map((m) => [m.senderId, m.clientMsgId, m.payload])).toEqual([
      ['alice', 'c-0001', { text: 'from alice', n: 1 }],
      ['bob', 'c-0001', { text: 'from bob' }],
      ['bob', 'c-0002', 2],
    ]);
    await waitFor(() => shown(subscriber).length === 3, { timeoutMs: 30_000, what: "bob's c-0002 delivered" });
    expect(shown(subscriber).map((m) => m.seq)).toEqual(page.messages.map((m) => m.seq));
  }, 120_000);
});
