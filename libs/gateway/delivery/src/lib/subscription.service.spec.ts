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
} from './test-support';

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
    const gate = deferred();
    history.gate = gate.promise;
    const alice = target('alice');
    let ack: SubscribeAck | undefined;
    const pending = service.subscribe(alice, { roomId: 'r' }, (a) => {
      ack = a;
      log.push('alice ack');
    });

    // 5 was committed before the head read and is republished; 8 is committed after it.
    service.dispatch('r', [message('r', 5, 2), message('r', 8, 5)]);
    expect(alice.events).toEqual([]);
    gate.resolve();
    history.gate = undefined;
    await pending;

    expect(ack).toMatchObject({ ok: true, headSeq: 5 });
    expect(log).toEqual(['alice ack', 'alice messages 8']);
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
    service.onModuleDestroy();
    const calls = history.findAfterCalls;
    history.failuresLeft = 0;
    history.append(chain('r', [1, 3]));
    service.dispatch('r', [message('r', 5, 3)]);
    expect(history.findAfterCalls).toBe(calls);
    expect(alice.events).toEqual([]);
  });
});
