import { DEFAULT_SESSION_POLICY, DeliverySession, type SessionPolicy } from './delivery-session';
import { messageBytes } from './message-meta';
import { Subscription } from './subscription';
import { chain, EPOCH, RecordingTarget } from '../testing';

const ACK_TIMEOUT_MS = 1_000;

function live(policy: Partial<SessionPolicy> = {}, cursor = -1) {
  const target = new RecordingTarget('alice');
  const session = new DeliverySession(target, { ...DEFAULT_SESSION_POLICY, ackTimeoutMs: ACK_TIMEOUT_MS, ...policy });
  const subscription = new Subscription(session, 'r');
  subscription.startAt(EPOCH, cursor);
  expect(subscription.tryGoLive()).toBe(true);
  return { target, session, subscription };
}

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

describe('Subscription acks', () => {
  it('keeps delivered messages unacked until a cumulative ack releases them', () => {
    const { session, subscription } = live();
    const messages = chain('r', [0, 2, 5, 9]);
    subscription.offer(messages);
    expect(subscription.unackedCount).toBe(4);
    expect(session.unackedMessages).toBe(4);
    expect(session.unackedBytes).toBe(messages.reduce((sum, m) => sum + messageBytes(m), 0));

    // Cumulative, and a seq between two deliveries covers everything up to it.
    expect(subscription.ack(3)).toBe('ok');
    expect(subscription.unackedCount).toBe(2);
    expect(subscription.lastAcked).toBe(3);
    expect(subscription.ack(9)).toBe('ok');
    expect(session.unackedMessages).toBe(0);
    expect(session.unackedBytes).toBe(0);
    expect(subscription.redeliveryPending).toBe(false);
  });

  it('classifies acks it cannot take', () => {
    const { subscription } = live({}, 4);
    subscription.offer(chain('r', [6], 4));
    expect(subscription.ack(7)).toBe('beyond_delivered');
    expect(subscription.ack(4)).toBe('stale'); // the head it started from
    expect(subscription.ack(6)).toBe('ok');
    expect(subscription.ack(6)).toBe('stale');
    subscription.close();
    expect(subscription.ack(6)).toBe('not_subscribed');
  });
});

describe('Subscription redelivery', () => {
  it('re-sends everything from the first unacked seq after the ack timeout, then stops once acked', () => {
    const { target, subscription } = live();
    subscription.offer(chain('r', [0, 1, 2]));
    subscription.ack(0);
    jest.advanceTimersByTime(ACK_TIMEOUT_MS - 1);
    expect(target.seqs()).toEqual([0, 1, 2]);

    jest.advanceTimersByTime(1);
    expect(target.seqs()).toEqual([0, 1, 2, 1, 2]);
    // The redelivered event starts right after the last acked seq.
    expect(target.events[1].messages[0].prevSeq).toBe(0);

    subscription.ack(2);
    jest.advanceTimersByTime(ACK_TIMEOUT_MS * 20);
    expect(target.seqs()).toEqual([0, 1, 2, 1, 2]);
    expect(subscription.redeliveryPending).toBe(false);
  });

  it('backs off: each round without progress doubles the wait, up to 8x', () => {
    const { target, subscription } = live();
    subscription.offer(chain('r', [0]));
    const rounds: number[] = [];
    for (let t = 0; t <= ACK_TIMEOUT_MS * 40; t += 100) {
      const before = target.events.length;
      jest.advanceTimersByTime(100);
      if (target.events.length > before) rounds.push(t + 100);
    }
    // 1s, then +2s, +4s, +8s, +8s ...
    expect(rounds.slice(0, 6)).toEqual([1_000, 3_000, 7_000, 15_000, 23_000, 31_000]);
  });

  it('times each message from its own delivery: a later message waits its full timeout', () => {
    const { target, subscription } = live();
    subscription.offer(chain('r', [0]));
    jest.advanceTimersByTime(600);
    subscription.offer(chain('r', [1], 0));
    subscription.ack(0);
    jest.advanceTimersByTime(500); // 1.1 s after 0, 0.5 s after 1
    expect(target.seqs()).toEqual([0, 1]);
    jest.advanceTimersByTime(500);
    expect(target.seqs()).toEqual([0, 1, 1]);
  });

  it('ack progress resets the backoff', () => {
    const { target, subscription } = live();
    subscription.offer(chain('r', [0, 1]));
    jest.advanceTimersByTime(ACK_TIMEOUT_MS); // round 1
    jest.advanceTimersByTime(ACK_TIMEOUT_MS * 2); // round 2
    expect(target.events).toHaveLength(3);
    subscription.ack(0);
    jest.advanceTimersByTime(ACK_TIMEOUT_MS); // back to the plain timeout
    expect(target.events).toHaveLength(4);
    expect(target.events[3].messages.map((m) => m.seq)).toEqual([1]);
  });

  it('closing frees the window and the timer', () => {
    const { target, session, subscription } = live();
    subscription.offer(chain('r', [0, 1]));
    subscription.close();
    expect(session.unackedMessages).toBe(0);
    expect(subscription.redeliveryPending).toBe(false);
    jest.advanceTimersByTime(ACK_TIMEOUT_MS * 20);
    expect(target.events).toHaveLength(1);
    expect(jest.getTimerCount()).toBe(0);
  });
});
