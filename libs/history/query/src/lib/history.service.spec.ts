import type { Principal } from '@seqcast/auth';
import type { Message } from '@seqcast/contracts';
import { ApiError } from '@seqcast/http-api';
import type { MessageHistory } from '@seqcast/persistence';
import { HistoryService, isDatabaseUnavailable, pageOf } from './history.service';

const reader: Principal = {
  userId: 'bob',
  kind: 'token',
  // Publish-only grants elsewhere must not open history.
  grants: { publish: ['team-2:*'], subscribe: ['team-2:*'], history: ['team-1:*'] },
  expiresAt: new Date(Date.now() + 60_000),
};

function message(seq: number, prevSeq: number | null): Message {
  return {
    roomId: 'team-1:a',
    seq,
    prevSeq,
    epoch: 'e1',
    clientMsgId: `c${seq}`,
    senderId: 'alice',
    payload: seq,
    sentAt: '2030-01-01T00:00:00.000Z',
    sequencedAt: '2030-01-01T00:00:01.000Z',
  };
}

class FakeHistory implements MessageHistory {
  calls: string[] = [];
  failWith: unknown;
  constructor(private readonly messages: Message[]) {}
  async currentEpoch(): Promise<string> {
    this.calls.push('epoch');
    return 'e1';
  }
  async headSeq(): Promise<number> {
    this.calls.push('head');
    return this.messages.at(-1)?.seq ?? -1;
  }
  async findAfter(_roomId: string, afterSeq: number, limit: number): Promise<Message[]> {
    this.calls.push(`find(${afterSeq},${limit})`);
    if (this.failWith) throw this.failWith;
    return this.messages.filter((m) => m.seq > afterSeq).slice(0, limit);
  }
  async findBefore(_roomId: string, beforeSeq: number | undefined, limit: number): Promise<Message[]> {
    this.calls.push(`findBefore(${beforeSeq},${limit})`);
    if (this.failWith) throw this.failWith;
    return this.messages.filter((m) => beforeSeq === undefined || m.seq < beforeSeq).slice(-limit);
  }
  async afterSeqForLatest(): Promise<number> {
    throw new Error('not used by the history endpoint');
  }
}

const forward = (afterSeq: number, limit: number) => ({ direction: 'forward' as const, afterSeq, limit });
const backward = (limit: number, beforeSeq?: number) => ({ direction: 'backward' as const, beforeSeq, limit });

describe('HistoryService', () => {
  const messages = [message(3, null), message(7, 3), message(8, 7)];

  it('returns one page with the epoch and the head seq read after the messages', async () => {
    const history = new FakeHistory(messages);
    const page = await new HistoryService(history).page(reader, 'team-1:a', forward(3, 1));
    expect(page).toEqual({
      roomId: 'team-1:a',
      epoch: 'e1',
      headSeq: 8,
      messages: [messages[1]],
      hasMore: true,
      nextAfterSeq: 7,
    });
    // One row more than asked tells whether there is more.
    expect(history.calls).toEqual(['epoch', 'find(3,2)', 'head']);
  });

  it('reads the latest messages backwards and returns them ascending', async () => {
    const history = new FakeHistory(messages);
    const page = await new HistoryService(history).page(reader, 'team-1:a', backward(2));
    expect(page).toEqual({
      roomId: 'team-1:a',
      epoch: 'e1',
      headSeq: 8,
      messages: [messages[1], messages[2]],
      hasMore: true,
      nextBeforeSeq: 7,
    });
    expect(history.calls).toEqual(['epoch', 'findBefore(undefined,3)', 'head']);
  });

  it('refuses rooms the token does not grant without touching the database', async () => {
    const history = new FakeHistory(messages);
    await expect(new HistoryService(history).page(reader, 'team-2:a', forward(-1, 10))).rejects.toMatchObject({
      status: 403,
      code: 'forbidden',
    });
    expect(history.calls).toEqual([]);
  });

  it('answers 503 when the database cannot be reached', async () => {
    const history = new FakeHistory(messages);
    history.failWith = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const attempt = new HistoryService(history).page(reader, 'team-1:a', forward(-1, 10));
    await expect(attempt).rejects.toBeInstanceOf(ApiError);
    await expect(attempt).rejects.toMatchObject({ status: 503, code: 'unavailable', retryAfterSeconds: 5 });
  });

  it('lets other failures through as they are (they are bugs, answered 500)', async () => {
    const history = new FakeHistory(messages);
    const bug = Object.assign(new Error('column "sequ" does not exist'), { code: '42703' });
    history.failWith = bug;
    await expect(new HistoryService(history).page(reader, 'team-1:a', forward(-1, 10))).rejects.toBe(bug);
  });
});

describe('pageOf (cursor math)', () => {
  // Sparse seqs: seqs are Kafka offsets shared by the rooms of a partition.
  const rows = [message(3, null), message(7, 3), message(8, 7), message(15, 8)];

  it('forward: drops the extra newest row and points the next page after the last one returned', () => {
    expect(pageOf(forward(-1, 3), rows)).toEqual({ messages: rows.slice(0, 3), hasMore: true, nextAfterSeq: 8 });
  });
  it('forward: a short page has no more, and still says where to poll from', () => {
    expect(pageOf(forward(7, 3), rows.slice(2))).toEqual({ messages: rows.slice(2), hasMore: false, nextAfterSeq: 15 });
  });
  it('forward: an empty page keeps the cursor it was asked with', () => {
    expect(pageOf(forward(15, 3), [])).toEqual({ messages: [], hasMore: false, nextAfterSeq: 15 });
  });
  it('backward: drops the extra oldest row and points the next page below the oldest returned', () => {
    expect(pageOf(backward(3), rows)).toEqual({ messages: rows.slice(1), hasMore: true, nextBeforeSeq: 7 });
  });
  it('backward: the last (oldest) page has no cursor', () => {
    expect(pageOf(backward(3, 8), rows.slice(0, 2))).toEqual({ messages: rows.slice(0, 2), hasMore: false });
  });
  it('backward: an empty room is one empty page', () => {
    expect(pageOf(backward(50), [])).toEqual({ messages: [], hasMore: false });
  });
  it('a page of exactly limit rows has no more', () => {
    expect(pageOf(backward(4), rows)).toEqual({ messages: rows, hasMore: false });
    expect(pageOf(forward(-1, 4), rows)).toEqual({ messages: rows, hasMore: false, nextAfterSeq: 15 });
  });
});

describe('isDatabaseUnavailable', () => {
  it.each([
    ['a refused connection', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })],
    [
      'a server shutting down',
      Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
    ],
    ['a connection failure class error', Object.assign(new Error('connection failure'), { code: '08006' })],
    ['too many connections', Object.assign(new Error('sorry, too many clients already'), { code: '53300' })],
    ['a dropped connection', new Error('Connection terminated unexpectedly')],
    ['a pool timeout', new Error('timeout exceeded when trying to connect')],
    [
      "TypeORM's wrapper around a pg error",
      Object.assign(new Error('query failed'), { driverError: Object.assign(new Error('x'), { code: '57P03' }) }),
    ],
    [
      'an error caused by a network failure',
      new Error('read failed', { cause: Object.assign(new Error('reset'), { code: 'ECONNRESET' }) }),
    ],
  ])('recognises %s', (_what, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it.each([
    ['a syntax error', Object.assign(new Error('syntax error at or near "SELEC"'), { code: '42601' })],
    ['a constraint violation', Object.assign(new Error('duplicate key'), { code: '23505' })],
    ['a plain bug', new TypeError('x is not a function')],
    ['a non-error', 'oops'],
    ['nothing', undefined],
  ])('does not mistake %s for an outage', (_what, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });
});
