/**
 * Issue 14 item 9 end to end: the SDK publishes on the socket it holds, through the built gateway,
 * the real ordering worker and another SDK client, as real processes.
 *
 * Asserted: a connected client's publish() goes over the socket (the gateway counts the accepted
 * messages, ingest-api none) and answers like the HTTP 202; the messages reach another client in
 * order with seq = the offset the publisher was told; a retry with the same clientMsgId is a
 * duplicate with the same partition and offset (and the stored seq); `publishTransport: 'http'`
 * publishes through ingest-api instead.
 */
import { signToken } from '@seqcast/auth';
import { SeqcastClient, type RoomMessage } from '@seqcast/client';
import { TEST_JWT_SECRET, waitFor } from '@seqcast/testing';
import { randomBytes } from 'node:crypto';
import { scrapeMetric } from './support/metrics';
import { startStack, type Stack } from './support/stack';

const ROOM = `sp-${randomBytes(3).toString('hex')}`;
const ACCEPTED = 'seqcast_ingest_accepted_messages_total';

describe('publishing over the socket (real processes)', () => {
  let stack: Stack;
  const clients: SeqcastClient[] = [];

  beforeAll(async () => {
    stack = await startStack();
  });

  afterAll(async () => {
    for (const client of clients) client.close();
    await stack?.stop();
  });

  function client(sub: string, publishTransport?: 'auto' | 'http'): SeqcastClient {
    const c = new SeqcastClient({
      gatewayUrl: stack.gateway.url,
      ingestUrl: stack.ingest.url,
      token: signToken({ sub, rooms: ['sp-*'] }, TEST_JWT_SECRET),
      publishTransport,
    });
    clients.push(c);
    return c;
  }

  const accepted = async () => ({
    gateway: await scrapeMetric(stack.gateway.managementUrl, ACCEPTED),
    ingest: await scrapeMetric(stack.ingest.managementUrl, ACCEPTED),
  });

  it('publishes over the connection, delivers in order, answers retries as duplicates, and uses HTTP when told to', async () => {
    const reader = client('bob');
    const received: RoomMessage[] = [];
    reader.connect();
    await reader.subscribe(ROOM, (m) => received.push(m));

    const writer = client('alice');
    writer.connect();
    await waitFor(() => writer.state === 'connected', { what: 'the writer to connect' });
    const before = await accepted();

    const results = [];
    for (let i = 0; i < 10; i++) results.push(await writer.publish(ROOM, { text: `hello ${i}` }, { clientMsgId: `m-${i}` }));
    expect(results.every((r) => r.roomId === ROOM && r.duplicate === false)).toBe(true);
    const afterSocket = await accepted();
    expect(afterSocket.gateway - before.gateway).toBe(10);
    expect(afterSocket.ingest - before.ingest).toBe(0);

    await waitFor(() => received.length >= 10, { what: 'the reader receiving all ten', timeoutMs: 30_000 });
    expect(received.map((m) => [m.seq, m.senderId, m.clientMsgId, m.payload])).toEqual(
      results.map((r, i) => [r.offset, 'alice', `m-${i}`, { text: `hello ${i}` }]),
    );

    const retry = await writer.publish(ROOM, { text: 'hello 3' }, { clientMsgId: 'm-3' });
    expect(retry).toMatchObject({ duplicate: true, partition: results[3].partition, offset: results[3].offset, seq: results[3].offset });

    const httpWriter = client('carol', 'http');
    httpWriter.connect();
    await waitFor(() => httpWriter.state === 'connected', { what: 'the HTTP writer to connect' });
    await httpWriter.publish(ROOM, { text: 'over http' });
    const afterHttp = await accepted();
    expect(afterHttp.ingest - afterSocket.ingest).toBe(1);
    expect(afterHttp.gateway - afterSocket.gateway).toBe(0);
    await waitFor(() => received.length >= 11, { what: 'the HTTP publish to arrive' });
    expect(received[10]).toMatchObject({ senderId: 'carol', payload: { text: 'over http' } });
  });
});
