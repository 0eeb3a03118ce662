import type { MessagesEvent } from '@seqcast/contracts';
import { type Backlog, DEFAULT_SESSION_POLICY, type DeliveryTarget, DeliverySession } from './delivery-session';

class KickableTarget implements DeliveryTarget {
  readonly events: MessagesEvent[] = [];
  readonly kicks: Backlog[] = [];
  transport: Backlog = { messages: 0, bytes: 0 };
  constructor(readonly id = 's1') {}
  deliver(event: MessagesEvent): void {
    this.events.push(event);
  }
  transportBacklog(): Backlog {
    return this.transport;
  }
  slowConsumer(backlog: Backlog): void {
    this.kicks.push(backlog);
  }
}

function session(policy: Partial<typeof DEFAULT_SESSION_POLICY> = {}) {
  const target = new KickableTarget();
  const kicked: string[] = [];
  const s = new DeliverySession(target, { ...DEFAULT_SESSION_POLICY, ...policy }, (k) => kicked.push(k.id));
  return { target, session: s, kicked };
}

describe('DeliverySession backlog bound', () => {
  it('kicks once the unacked messages pass the bound, telling the target the backlog', () => {
    const { target, session: s, kicked } = session({ maxBacklogMessages: 3 });
    s.track(3, 300);
    expect(s.enforceBound()).toBe(false);
    s.track(1, 100);
    expect(s.enforceBound()).toBe(true);
    expect(target.kicks).toEqual([{ messages: 4, bytes: 400 }]);
    expect(kicked).toEqual(['s1']);
    expect(s.active).toBe(false);
    expect(s.enforceBound()).toBe(false); // once
  });

  it('kicks on bytes too', () => {
    const { target, session: s } = session({ maxBacklogBytes: 1_000 });
    s.track(1, 1_001);
    expect(s.enforceBound()).toBe(true);
    expect(target.kicks).toEqual([{ messages: 1, bytes: 1_001 }]);
  });

  it('counts what the transport still holds when it is more than the unacked messages', () => {
    const { target, session: s } = session({ maxBacklogMessages: 10, maxBacklogBytes: 10_000 });
    s.track(2, 200);
    target.transport = { messages: 5, bytes: 20_000 };
    expect(s.backlog()).toEqual({ messages: 5, bytes: 20_000 });
    expect(s.enforceBound()).toBe(true);
  });

  it('sends nothing once gone, and counts it as dropped', () => {
    const { target, session: s } = session();
    s.close();
    expect(s.send({ roomId: 'r', messages: [] }, 'live')).toBe(false);
    expect(target.events).toEqual([]);
  });

  it('survives a throwing target', () => {
    const target: DeliveryTarget = {
      id: 'x',
      deliver: () => {
        throw new Error('socket gone');
      },
    };
    const s = new DeliverySession(target, DEFAULT_SESSION_POLICY);
    expect(s.send({ roomId: 'r', messages: [] }, 'live')).toBe(false);
  });
});

describe('DeliverySession replay credit', () => {
  it('allows replay within the subscription window and half the socket bound', () => {
    const { session: s } = session({ replayWindowMessages: 10, maxBacklogMessages: 100, maxBacklogBytes: 1_000 });
    expect(s.hasReplayCredit(9)).toBe(true);
    expect(s.hasReplayCredit(10)).toBe(false);
    s.track(50, 100);
    expect(s.hasReplayCredit(0)).toBe(false);
    s.track(-1, 0);
    expect(s.hasReplayCredit(0)).toBe(true);
    s.track(0, 400);
    expect(s.hasReplayCredit(0)).toBe(false);
    expect(s.replayBytesLeft()).toBe(0);
  });

  it('wakes waiting replays on ack progress and when the session ends', async () => {
    const { session: s } = session();
    s.track(5, 5);
    const woken: string[] = [];
    void s.whenCredit().then(() => woken.push('ack'));
    s.track(2, 2); // more delivered: no progress
    await Promise.resolve();
    expect(woken).toEqual([]);
    s.track(-3, -3);
    await Promise.resolve();
    expect(woken).toEqual(['ack']);
    void s.whenCredit().then(() => woken.push('closed'));
    s.close();
    await Promise.resolve();
    expect(woken).toEqual(['ack', 'closed']);
  });
});
