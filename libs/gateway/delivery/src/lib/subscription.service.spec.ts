import { Logger } from '@nestjs/common';
import type { SubscribeAck, SubscribeRequest } from '@seqcast/contracts';
import { SubscriptionService } from './subscription.service';
import {
  chain,
  deferred,
  EPOCH,
  eventually,
  expectChained,
  InMemoryHistory,
  message,
  RecordingTarget,
} from '../testing';

function setup(options: ConstructorParameters<typeof SubscriptionService>[1] = {}) {
  const history = new InMemoryHistory();
  const service = new SubscriptionService(history, { retryDelaysMs: [1], ...options });
  const log: string[] = [];
  return { history, service, log, target: (id: string) => new RecordingTarget(id, log) };
}

async function subscribe(
  service: SubscriptionService,
  target: RecordingTarget,
  request: SubscribeRequest,
  log?: string[],
): Promise<SubscribeAck> {
  let ack: SubscribeAck | undefined;
  await service.subscribe(target, request, (response) => {
    ack = response;
    log?.push(`${target.id} ack`);
  });
  if (!ack) throw new Error('subscribe did not ack');
  return ack;
}

beforeAll(() => Logger.overrideLogger(false));
afterAll(() => Logger.overrideLogger(true));

describe('SubscriptionService subscribe without afterSeq', () => {
  it('acks epoch and headSeq, then delivers live messages from there on', async () => {
    const { history, service, target } = setup();
    history.append(chain('r', [2, 5]));
    const alice = target('alice');
    await expect(subscribe(service, alice, { roomId: 'r' })).resolves.toEqual({
      ok: true,
      roomId: 'r',
      epoch: EPOCH,
      headSeq: 5,
    });
    service.dispatch('r', chain('r', [8, 13], 5));
    expect(alice.seqs()).toEqual([8, 13]);
    expect(alice.events[0].messages[0].prevSeq).toBe(5);
  });

  it('is race-free across the seam: events dispatched while PostgreSQL is read are buffered and merged', async () => {
    const { history, service, target, log } = setup();
    history.append(chain('r', [2, 5]));
    await subscribe(service, target('warm-up'), { roomId: 'other' }); // the epoch is now known
    const gate = deferred();
    history.gate = gate.promise;
    const alice = target('alice');
    let ack: SubscribeAck | undefined;
    const pending = service.subscribe(alice, { roomId: 'r' }, (a) => {
      ack = a;
      log.push('alice ack');
    });

    // 5 was committed before the head read and is republished; 8 is committed after it.
    await eventually(() => expect(history.headSeqCalls).toBe(2));
    service.dispatch('r', [message('r', 5, 2), message('r', 8, 5)]);
    expect(alice.events).toEqual([]);
    gate.resolve();
    history.gate = undefined;
    await pending;

    expect(ack).toMatchObject({ ok: true, headSeq: 5 });
    expect(log).toEqual(['alice ack', 'alice messages 8']);
  });

  it('answers the head from the room cache once it has seen the room dispatched', async () => {
    const { history, service, target } = setup();
    history.append(chain('r', [2, 5]));
    const alice = target('alice');
    await subscribe(service, alice, { roomId: 'r' });
    history.append([message('r', 8, 5)]);
    service.dispatch('r', [message('r', 8, 5)]);
    const reads = service.details.history.reads.head;

    const bob = target('bob');
    await expect(subscribe(service, bob, { roomId: 'r' })).resolves.toMatchObject({ ok: true, headSeq: 8 });
    expect(service.details.history.reads.head).toBe(reads);
    service.dispatch('r', [message('r', 9, 8)]);
    expect(alice.seqs()).toEqual([8, 9]);
    expect(bob.seqs()).toEqual([9]);
  });

  it('repairs a break in the live chain from PostgreSQL, delivering everything once and in order', async () => {
    const { history, service, target } = setup({ historyPageSize: 2 });
    history.append(chain('r', [1]));
    const alice = target('alice');
    await subscribe(service, alice, { roomId: 'r' });

    // The consumer never saw 3, 4 and 6 (e.g. published before it was positioned).
    history.append(chain('r', [3, 4, 6, 9], 1));
    service.dispatch('r', [message('r', 9, 6)]);
    service.dispatch('r', [message('r', 11, 9)]);
    history.append([message('r', 11, 9)]);

    await eventually(() => expect(alice.seqs()).toEqual([3, 4, 6, 9, 11]));
    expectChained(alice, 'r');
    service.dispatch('r', [message('r', 12, 11)]);
    expect(alice.seqs()).toEqual([3, 4, 6, 9, 11, 12]);
  });

  it('retries a failed repair read and then catches up', async () => {
    const { history, service, target } = setup();
    const alice = target('alice');
    await subscribe(service, alice, { roomId: 'r' });
    history.append(chain('r', [0, 1]));
    history.failuresLeft = 2;
    service.dispatch('r', [message('r', 1, 0)]);
    await eventually(() => expect(alice.seqs()).toEqual([0, 1]));
  });

  it('acks unavailable and keeps no subscription when PostgreSQL is down', async () => {
    const { history, service, target } = setup();
    history.failuresLeft = 1;
    const alice = target('alice');
    await expect(subscribe(service, alice, { roomId: 'r' })).resolves.toEqual({
      ok: false,
      error: { code: 'unavailable', message: expect.any(String) },
    });
    expect(service.stats).toEqual({ rooms: 0, subscriptions: 0 });
    service.dispatch('r', chain('r', [0]));
    expect(alice.events).toEqual([]);
  });
});

describe('SubscriptionService afterSeq replay', () => {
  it('acks, replays history after afterSeq in pages, merges buffered live events, then goes live', async () => {
    const { history, service, target, log } = setup({ historyPageSize: 2 });
    const seqs = [0, 3, 4, 7, 10, 11, 15];
    history.append(chain('r', seqs));
    const gate = deferred();
    history.gate = gate.promise;
    const alice = target('alice');
    const pending = subscribe(service, alice, { roomId: 'r', afterSeq: 3, epoch: EPOCH }, log);
    // Live copies of messages the replay also covers, and one newer.
    service.dispatch('r', [message('r', 11, 10), message('r', 15, 11), message('r', 20, 15)]);
    history.append([message('r', 20, 15)]);
    gate.resolve();
    history.gate = undefined;

    await expect(pending).resolves.toMatchObject({ ok: true, headSeq: 20 });
    await eventually(() => expect(alice.seqs()).toEqual([4, 7, 10, 11, 15, 20]));
    expect(log[0]).toBe('alice ack');
    expectChained(alice, 'r');
    expect(alice.events.every((e) => e.messages.length <= 2 || e.messages[0].seq > 15)).toBe(true);
  });

  it('accepts an afterSeq that is not one of the room seqs', async () => {
    const { history, service, target } = setup();
    history.append(chain('r', [2, 9, 14]));
    const alice = target('alice');
    await subscribe(service, alice, { roomId: 'r', afterSeq: 5 });
    await eventually(() => expect(alice.seqs()).toEqual([9, 14]));
    service.dispatch('r', [message('r', 16, 14)]);
    expect(alice.seqs()).toEqual([9, 14, 16]);
  });

  it('clamps an afterSeq beyond the head', async () => {
    const { history, service, target } = setup();
    history.append(chain('r', [2]));
    const alice = target('alice');
    await subscribe(service, alice, { roomId: 'r', afterSeq: 99 });
    service.dispatch('r', [message('r', 6, 2)]);
    expect(alice.seqs()).toEqual([6]);
  });

  it('resets to the whole retained history when the client epoch is stale', async () => {
    const { history, service, target } = setup();
    history.append(chain('r', [2, 9]));
    const alice = target('alice');
    await expect(subscribe(service, alice, { roomId: 'r', afterSeq: 9, epoch: 'old-epoch' })).resolves.toEqual({
      ok: true,
      roomId: 'r',
      epoch: EPOCH,
      headSeq: 9,
      reset: true,
    });
    await eventually(() => expect(alice.seqs()).toEqual([2, 9]));
  });
});

describe('SubscriptionService last N then live', () => {
  it('replays the latest N stored messages, merges what was dispatched meanwhile, then goes live', async () => {
    const { history, service, target, log } = setup({ historyPageSize: 2 });
    history.append(chain('r', [0, 3, 4, 7, 10, 11, 15]));
    const gate = deferred();
    history.gate = gate.promise;
    const alice = target('alice');
    const pending = subscribe(service, alice, { roomId: 'r', last: 3 }, log);
    // Published during the subscribe, both committed before the held reads run: the replay covers
    // them, and their live copies (buffered meanwhile) must not be delivered a second time.
    service.dispatch('r', [message('r', 15, 11), message('r', 20, 15)]);
    history.append([message('r', 20, 15)]);
    gate.resolve();
    history.gate = undefined;

    await expect(pending).resolves.toEqual({ ok: true, roomId: 'r', epoch: EPOCH, headSeq: 20 });
    // The latest 3 when read (11, 15, 20), each once, then live: no gap, no duplicate at the seam.
    await eventually(() => expect(alice.seqs()).toEqual([11, 15, 20]));
    expect(log[0]).toBe('alice ack');
    expectChained(alice, 'r');
    service.dispatch('r', [message('r', 21, 20)]);
    expect(alice.seqs()).toEqual([11, 15, 20, 21]);
    expect(history.latestCalls).toBe(1);
  });

  it('replays what there is when the room holds fewer than N, without flagging a truncation', async () => {
    const { history, service, target } = setup();
    // 6 names a pruned predecessor: "the latest 50" is simply the 2 retained.
    history.append(chain('r', [6, 7], 5));
    const alice = target('alice');
    const ack = await subscribe(service, alice, { roomId: 'r', last: 50 });
    expect(ack).toEqual({ ok: true, roomId: 'r', epoch: EPOCH, headSeq: 7 });
    await eventually(() => expect(alice.seqs()).toEqual([6, 7]));
  });

  it('shares one cursor read among concurrent identical last-N subscribes of a room', async () => {
    const { history, service, target } = setup();
    history.append(chain('r', [1, 4, 6, 9]));
    await subscribe(service, target('warm-up'), { roomId: 'other' }); // the epoch is now known
    const gate = deferred();
    history.gate = gate.promise;
    const clients = ['a', 'b', 'c'].map((id) => target(id));
    const pending = clients.map((c) => subscribe(service, c, { roomId: 'r', last: 2 }));
    await eventually(() => expect(history.latestCalls).toBe(1));
    gate.resolve();
    history.gate = undefined;
    await Promise.all(pending);
    for (const c of clients) await eventually(() => expect(c.seqs()).toEqual([6, 9]));
    expect(history.latestCalls).toBe(1);
  });

  it('goes live at once on an empty room', async () => {
    const { service, target } = setup();
    const alice = target('alice');
    await expect(subscribe(service, alice, { roomId: 'r', last: 10 })).resolves.toMatchObject({ headSeq: -1 });
    service.dispatch('r', [message('r', 4, null)]);
    expect(alice.seqs()).toEqual([4]);
  });
});

describe('SubscriptionService lifecycle', () => {
  it('treats a repeated subscribe as idempotent: one subscription, no duplicates', async () => {
    const { history, service, target } = setup();
    history.append(chain('r', [2]));
    const alice = target('alice');
    const [first, second] = await Promise.all([
      subscribe(service, alice, { roomId: 'r' }),
      subscribe(service, alice, { roomId: 'r' }),
    ]);
    expect(first).toMatchObject({ ok: true, headSeq: 2 });
    expect(second).toMatchObject({ ok: true, headSeq: 2 });
    service.dispatch('r', [message('r', 4, 2)]);
    await expect(subscribe(service, alice, { roomId: 'r', afterSeq: -1 })).resolves.toMatchObject({ headSeq: 4 });
    expect(alice.seqs()).toEqual([4]);
    expect(service.stats).toEqual({ rooms: 1, subscriptions: 1 });
  });

  it('unsubscribe stops delivery, also while the subscribe is still reading PostgreSQL', async () => {
    const { history, service, target } = setup();
    const gate = deferred();
    history.gate = gate.promise;
    const alice = target('alice');
    const pending = subscribe(service, alice, { roomId: 'r' });
    expect(service.unsubscribe(alice, 'r')).toEqual({ ok: true, roomId: 'r' });
    gate.resolve();
    await pending;
    service.dispatch('r', chain('r', [0]));
    expect(alice.events).toEqual([]);
    expect(service.unsubscribe(alice, 'never-subscribed')).toEqual({ ok: true, roomId: 'never-subscribed' });
  });

  it('forgets every subscription of a disconnected target', async () => {
    const { service, target } = setup();
    const alice = target('alice');
    const bob = target('bob');
    await subscribe(service, alice, { roomId: 'r' });
    await subscribe(service, alice, { roomId: 's' });
    await subscribe(service, bob, { roomId: 'r' });
    service.disconnect('alice');
    service.dispatch('r', chain('r', [0]));
    service.dispatch('s', chain('s', [1]));
    expect(alice.events).toEqual([]);
    expect(bob.seqs()).toEqual([0]);
    expect(service.stats).toEqual({ rooms: 1, subscriptions: 1 });
  });

  it('stops repairing after shutdown', async () => {
    const { history, service, target } = setup({ retryDelaysMs: [50] });
    const alice = target('alice');
    await subscribe(service, alice, { roomId: 'r' });
    history.failuresLeft = 100;
    service.dispatch('r', [message('r', 3, 1)]);
    await eventually(() => expect(history.findAfterCalls).toBeGreaterThan(0));
    service.onApplicationShutdown();
    const calls = history.findAfterCalls;
    history.failuresLeft = 0;
    history.append(chain('r', [1, 3]));
    service.dispatch('r', [message('r', 5, 3)]);
    expect(history.findAfterCalls).toBe(calls);
    expect(alice.events).toEqual([]);
  });
});

describe('SubscriptionService reconnect storms', () => {
  it('shares one head read and one page read among concurrent resumes of a room', async () => {
    const { history, service, target } = setup();
    history.append(chain('r', [1, 2, 3, 4, 5, 6]));
    const gate = deferred();
    history.gate = gate.promise;
    const clients = Array.from({ length: 20 }, (_, i) => target(`c${i}`));
    const acks = clients.map((c) => subscribe(service, c, { roomId: 'r', afterSeq: 2, epoch: EPOCH }));
    gate.resolve();
    history.gate = undefined;
    await Promise.all(acks);
    await eventually(() => clients.forEach((c) => expect(c.seqs()).toEqual([3, 4, 5, 6])));

    expect({ epoch: history.epochCalls, head: history.headSeqCalls, page: history.findAfterCalls }).toEqual({
      epoch: 1,
      head: 1,
      page: 1,
    });
    expect(service.details.history.shared).toMatchObject({ head: 19, page: 19 });
  });

  it('replays a later resume from the room cache without reading PostgreSQL', async () => {
    const { history, service, target } = setup();
    history.append(chain('r', [1, 2, 3]));
    const alice = target('alice');
    await subscribe(service, alice, { roomId: 'r', afterSeq: -1 });
    await eventually(() => expect(alice.seqs()).toEqual([1, 2, 3]));
    history.append([message('r', 4, 3)]);
    service.dispatch('r', [message('r', 4, 3)]);
    const reads = { head: history.headSeqCalls, page: history.findAfterCalls };

    const bob = target('bob');
    await expect(subscribe(service, bob, { roomId: 'r', afterSeq: 1, epoch: EPOCH })).resolves.toMatchObject({
      ok: true,
      headSeq: 4,
    });
    await eventually(() => expect(bob.seqs()).toEqual([2, 3, 4]));
    expect({ head: history.headSeqCalls, page: history.findAfterCalls }).toEqual(reads);
    expect(service.details.history.cacheHits).toBeGreaterThanOrEqual(2);
    service.dispatch('r', [message('r', 7, 4)]);
    expect(bob.seqs()).toEqual([2, 3, 4, 7]);
  });

  it('asks PostgreSQL for the head when a client resumes from beyond what the cache knows', async () => {
    const { history, service, target } = setup();
    history.append(chain('r', [1, 5]));
    await subscribe(service, target('alice'), { roomId: 'r' });
    service.dispatch('r', [message('r', 5, 1)]);
    history.append([message('r', 8, 5)]); // committed; this gateway has not consumed it yet
    const reads = history.headSeqCalls;
    const bob = target('bob');
    await expect(subscribe(service, bob, { roomId: 'r', afterSeq: 8, epoch: EPOCH })).resolves.toMatchObject({
      headSeq: 8,
    });
    expect(history.headSeqCalls).toBe(reads + 1);
    service.dispatch('r', [message('r', 8, 5), message('r', 9, 8)]);
    expect(bob.seqs()).toEqual([9]);
  });

  it('keeps a room cached after its last subscriber left', async () => {
    const { history, service, target } = setup();
    history.append(chain('r', [1, 2]));
    const alice = target('alice');
    await subscribe(service, alice, { roomId: 'r', afterSeq: -1 });
    await eventually(() => expect(alice.seqs()).toEqual([1, 2]));
    service.disconnect('alice');
    expect(service.stats).toEqual({ rooms: 0, subscriptions: 0 });
    expect(service.details.cache.messages).toBe(2);
    const pages = history.findAfterCalls;
    await subscribe(service, target('alice-again'), { roomId: 'r', afterSeq: 1 });
    expect(history.findAfterCalls).toBe(pages);
  });
});

describe('SubscriptionService against inconsistent data', () => {
  it('stops asking when PostgreSQL never shows a message that was dispatched', async () => {
    // No cache (budget 0), so every answer has to come from the (inconsistent) history.
    const { history, service, target } = setup({ roomCache: { maxBytes: 0 } });
    history.append(chain('r', [1]));
    await subscribe(service, target('alice'), { roomId: 'r' });
    service.dispatch('r', [message('r', 5, 1)]); // never stored
    const bob = target('bob');
    await expect(subscribe(service, bob, { roomId: 'r' })).resolves.toMatchObject({ ok: true, headSeq: 1 });
    expect(history.headSeqCalls).toBeLessThanOrEqual(1 + 3);
    service.dispatch('r', [message('r', 7, 5)]);
    await eventually(() => expect(bob.seqs()).toEqual([7]));
  });
});

describe('SubscriptionService retention', () => {
  it('acks truncated with where delivery resumes when the history after afterSeq was pruned', async () => {
    const { history, service, target } = setup();
    // 1..5 were pruned; 6 still names 5 as its predecessor.
    history.append(chain('r', [6, 7], 5));
    const alice = target('alice');
    await expect(subscribe(service, alice, { roomId: 'r', afterSeq: 2, epoch: EPOCH })).resolves.toEqual({
      ok: true,
      roomId: 'r',
      epoch: EPOCH,
      headSeq: 7,
      truncated: true,
      resumeAfterSeq: 5,
    });
    await eventually(() => expect(alice.seqs()).toEqual([6, 7]));
  });

  it('does not flag a resume whose history is intact, nor a room that starts with a null prevSeq', async () => {
    const { history, service, target } = setup();
    history.append(chain('r', [2, 6, 7]));
    const ack = await subscribe(service, target('a'), { roomId: 'r', afterSeq: -1 });
    expect(ack).not.toHaveProperty('truncated');
    const again = await subscribe(service, target('b'), { roomId: 'r', afterSeq: 2 });
    expect(again).not.toHaveProperty('truncated');
  });
});

describe('SubscriptionService acks and backpressure', () => {
  it('paces a long replay by the client acks', async () => {
    const { history, service, target } = setup({
      historyPageSize: 4,
      delivery: { replayWindowMessages: 4, maxBacklogMessages: 100 },
    });
    const seqs = Array.from({ length: 20 }, (_, i) => i);
    history.append(chain('r', seqs));
    const alice = target('alice');
    await subscribe(service, alice, { roomId: 'r', afterSeq: -1 });
    await eventually(() => expect(alice.seqs()).toEqual([0, 1, 2, 3]));
    await new Promise((resolve) => setImmediate(resolve));
    expect(alice.seqs()).toHaveLength(4); // paused: nothing acked

    for (let acked = 3; acked < 19; acked += 4) {
      expect(service.ack('alice', 'r', acked)).toBe('ok');
      await eventually(() => expect(alice.seqs()).toHaveLength(acked + 5));
    }
    expect(alice.seqs()).toEqual(seqs);
    // Still replaying (the last page was full): live events wait in the buffer until the ack.
    service.dispatch('r', [message('r', 20, 19)]);
    expect(service.ack('alice', 'r', 19)).toBe('ok');
    await eventually(() => expect(alice.seqs()).toEqual([...seqs, 20]));
    service.dispatch('r', [message('r', 21, 20)]);
    expect(alice.seqs()).toEqual([...seqs, 20, 21]);
  });

  it('ignores acks for rooms not subscribed or seqs not delivered', async () => {
    const { history, service, target } = setup();
    history.append(chain('r', [1]));
    await subscribe(service, target('alice'), { roomId: 'r' });
    expect(service.ack('alice', 'other', 1)).toBe('not_subscribed');
    expect(service.ack('nobody', 'r', 1)).toBe('not_subscribed');
    expect(service.ack('alice', 'r', 5)).toBe('beyond_delivered');
    expect(service.stats.subscriptions).toBe(1);
  });

  it('kicks a socket past its backlog bound without delaying the others in the room', async () => {
    const { service } = setup({ delivery: { maxBacklogMessages: 5 } });
    const kicked: number[] = [];
    const slow = Object.assign(new RecordingTarget('slow'), {
      slowConsumer: (backlog: { messages: number }) => kicked.push(backlog.messages),
    });
    const healthy = new RecordingTarget('healthy');
    await subscribe(service, slow, { roomId: 'r' });
    await subscribe(service, healthy, { roomId: 'r' });
    for (let seq = 0; seq < 10; seq++) {
      service.dispatch('r', [message('r', seq, seq === 0 ? null : seq - 1)]);
      service.ack('healthy', 'r', seq);
    }
    expect(kicked).toEqual([6]);
    expect(slow.seqs()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(healthy.seqs()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(service.details).toMatchObject({ sessions: 1, subscriptions: 1, unackedMessages: 0 });
  });

  it('frees everything of a disconnected socket: subscriptions, windows, timers', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick'] });
    try {
      const { history, service, target } = setup();
      history.append(chain('r', [1]));
      const alice = target('alice');
      await subscribe(service, alice, { roomId: 'r' });
      await subscribe(service, alice, { roomId: 's' });
      service.dispatch('r', [message('r', 2, 1)]);
      service.dispatch('s', chain('s', [0]));
      expect(jest.getTimerCount()).toBe(2); // one redelivery timer per subscription with unacked messages
      service.disconnect('alice');
      expect(jest.getTimerCount()).toBe(0);
      expect(service.details).toMatchObject({ sessions: 0, subscriptions: 0, unackedMessages: 0 });
    } finally {
      jest.useRealTimers();
    }
  });
});
