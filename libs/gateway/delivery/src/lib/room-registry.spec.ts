import { RoomRegistry } from './room-registry';
import type { SharedFrame } from './delivery-session';
import { MAX_MESSAGES_PER_EMIT } from './subscription';
import { chain, EPOCH, expectChained, message, RecordingTarget } from '../testing';

function liveSubscription(registry: RoomRegistry, target: RecordingTarget, roomId: string, head: number) {
  const subscription = registry.add(target, roomId);
  subscription.startAt(EPOCH, head);
  expect(subscription.tryGoLive()).toBe(true);
  return subscription;
}

describe('RoomRegistry seam: subscribe without afterSeq', () => {
  it('buffers events while syncing and flushes only those after the head read from PostgreSQL', () => {
    const registry = new RoomRegistry();
    const alice = new RecordingTarget('alice');
    const subscription = registry.add(alice, 'r');

    // Dispatched between registration and the head read: 3 was already committed, 7 and 9 were not.
    registry.dispatch('r', chain('r', [3, 7, 9], 1));
    expect(alice.events).toEqual([]);
    expect(subscription.state).toBe('syncing');

    subscription.startAt(EPOCH, 3);
    expect(subscription.tryGoLive()).toBe(true);
    expect(alice.seqs()).toEqual([7, 9]);
    expect(alice.events).toHaveLength(1);

    registry.dispatch('r', chain('r', [12], 9));
    expect(alice.seqs()).toEqual([7, 9, 12]);
    expectChained(alice, 'r');
  });

  it('stays syncing when the buffer does not chain onto the head (PostgreSQL must fill the gap)', () => {
    const registry = new RoomRegistry();
    const alice = new RecordingTarget('alice');
    const subscription = registry.add(alice, 'r');
    registry.dispatch('r', chain('r', [9], 7));
    subscription.startAt(EPOCH, 3);
    expect(subscription.tryGoLive()).toBe(false);
    expect(alice.events).toEqual([]);

    expect(subscription.deliverHistory(chain('r', [7], 3))).toBe(1);
    expect(subscription.tryGoLive()).toBe(true);
    expect(alice.seqs()).toEqual([7, 9]);
    expectChained(alice, 'r');
  });

  it('handles the first message of a room (prevSeq null) against an empty head', () => {
    const registry = new RoomRegistry();
    const alice = new RecordingTarget('alice');
    liveSubscription(registry, alice, 'r', -1);
    registry.dispatch('r', chain('r', [0, 4]));
    expect(alice.seqs()).toEqual([0, 4]);
  });
});

describe('RoomRegistry fan-out', () => {
  it('delivers republished duplicates once', () => {
    const registry = new RoomRegistry();
    const alice = new RecordingTarget('alice');
    liveSubscription(registry, alice, 'r', 1);
    const batch = chain('r', [2, 5, 8], 1);
    registry.dispatch('r', batch);
    registry.dispatch('r', batch);
    // A worker restart republishes 5 and 8 in front of the new 11.
    registry.dispatch('r', [...batch.slice(1), message('r', 11, 8)]);
    expect(alice.seqs()).toEqual([2, 5, 8, 11]);
    expectChained(alice, 'r');
  });

  it('sends one emit per subscription per batch, split at the emit cap and still chained', () => {
    const registry = new RoomRegistry();
    const alice = new RecordingTarget('alice');
    liveSubscription(registry, alice, 'r', -1);
    registry.dispatch('r', chain('r', [0, 1, 2]));
    expect(alice.events).toHaveLength(1);

    const seqs = Array.from({ length: 1200 }, (_, i) => 3 + i);
    registry.dispatch('r', chain('r', seqs, 2));
    expect(alice.events.map((e) => e.messages.length)).toEqual([3, MAX_MESSAGES_PER_EMIT, MAX_MESSAGES_PER_EMIT, 200]);
    expectChained(alice, 'r');
  });

  it('delivers everything to every subscriber of the room and nothing to other rooms', () => {
    const registry = new RoomRegistry();
    const alice = new RecordingTarget('alice');
    const bob = new RecordingTarget('bob');
    liveSubscription(registry, alice, 'r', -1);
    liveSubscription(registry, bob, 'r', -1);
    liveSubscription(registry, bob, 'other', -1);
    registry.dispatch('r', chain('r', [0, 3]));
    registry.dispatch('nobody-listens', chain('nobody-listens', [1]));
    expect(alice.seqs('r')).toEqual([0, 3]);
    expect(bob.seqs('r')).toEqual([0, 3]);
    expect(bob.seqs('other')).toEqual([]);
  });

  it('reports a subscription whose chain breaks and delivers only the chained prefix', () => {
    const registry = new RoomRegistry();
    const alice = new RecordingTarget('alice');
    const subscription = liveSubscription(registry, alice, 'r', 2);
    const gaps = registry.dispatch('r', [message('r', 4, 2), message('r', 9, 6), message('r', 10, 9)]);
    expect(gaps).toEqual([subscription]);
    expect(alice.seqs()).toEqual([4]);
    expect(subscription.state).toBe('syncing');
    expect(subscription.bufferedCount).toBe(2);
  });

  it('stops delivering after remove and forgets rooms nobody subscribes to', () => {
    const registry = new RoomRegistry();
    const alice = new RecordingTarget('alice');
    const bob = new RecordingTarget('bob');
    liveSubscription(registry, alice, 'r', -1);
    liveSubscription(registry, alice, 's', -1);
    liveSubscription(registry, bob, 'r', -1);

    expect(registry.remove('alice', 'r')?.state).toBe('closed');
    registry.dispatch('r', chain('r', [0]));
    expect(alice.seqs('r')).toEqual([]);
    expect(bob.seqs('r')).toEqual([0]);

    expect(registry.removeTarget('alice')).toHaveLength(1);
    expect(registry.removeTarget('bob')).toHaveLength(1);
    expect(registry.roomCount).toBe(0);
    expect(registry.subscriptionCount).toBe(0);
  });

  it('only removes the given instance when asked to', () => {
    const registry = new RoomRegistry();
    const alice = new RecordingTarget('alice');
    const first = registry.add(alice, 'r');
    registry.remove('alice', 'r');
    const second = registry.add(alice, 'r');
    expect(registry.remove('alice', 'r', first)).toBeUndefined();
    expect(registry.get('alice', 'r')).toBe(second);
    expect(() => registry.add(alice, 'r')).toThrow(/already subscribed/);
  });
});

describe('Subscription buffer overflow', () => {
  it('drops the buffer past its cap and insists on another PostgreSQL read before going live', () => {
    const registry = new RoomRegistry({ maxBufferedPerSubscription: 3 });
    const alice = new RecordingTarget('alice');
    const subscription = registry.add(alice, 'r');
    registry.dispatch('r', chain('r', [1, 2, 3, 4]));
    expect(subscription.bufferedCount).toBe(0);
    subscription.startAt(EPOCH, -1);
    expect(subscription.tryGoLive()).toBe(false);

    subscription.deliverHistory(chain('r', [1, 2, 3, 4]));
    registry.dispatch('r', [message('r', 5, 4)]);
    expect(subscription.tryGoLive()).toBe(true);
    expect(alice.seqs()).toEqual([1, 2, 3, 4, 5]);
  });

  it('forceLive delivers an unexplainable buffer rather than stalling', () => {
    const registry = new RoomRegistry();
    const alice = new RecordingTarget('alice');
    const subscription = registry.add(alice, 'r');
    registry.dispatch('r', [message('r', 9, 7)]);
    subscription.startAt(EPOCH, 3);
    expect(subscription.tryGoLive()).toBe(false);
    subscription.forceLive();
    expect(subscription.state).toBe('live');
    expect(alice.seqs()).toEqual([9]);
  });
});

describe('RoomRegistry encode once', () => {
  /** A target that, like a Socket.IO socket, writes shared frames as they are. */
  class SharingTarget extends RecordingTarget {
    readonly shared: SharedFrame[] = [];
    deliverShared(frame: SharedFrame): void {
      this.shared.push(frame);
      this.deliver(frame.event);
    }
  }

  it('hands every subscriber at the live head the same frames; a lagging one gets its own', () => {
    const registry = new RoomRegistry();
    const alice = new SharingTarget('alice');
    const bob = new SharingTarget('bob');
    const carol = new SharingTarget('carol');
    liveSubscription(registry, alice, 'r', 3);
    liveSubscription(registry, bob, 'r', 3);
    // Carol's cursor is behind the batch: the chain check sends her through gap repair instead.
    const lagging = liveSubscription(registry, carol, 'r', 1);

    const batch = chain('r', Array.from({ length: MAX_MESSAGES_PER_EMIT + 2 }, (_, i) => 4 + i), 3);
    const gaps = registry.dispatch('r', batch);

    expect(alice.shared).toHaveLength(2);
    expect(bob.shared).toEqual(alice.shared);
    expect(bob.shared[0]).toBe(alice.shared[0]);
    expect(alice.seqs()).toEqual(batch.map((m) => m.seq));
    expect(bob.seqs()).toEqual(batch.map((m) => m.seq));
    expect(alice.events.map((e) => e.messages.length)).toEqual([MAX_MESSAGES_PER_EMIT, 2]);
    expect(registry.get('alice', 'r')?.unackedCount).toBe(batch.length);
    expect(carol.events).toEqual([]);
    expect(gaps).toEqual([lagging]);
  });

  it('shares only the chained run of a batch with a break inside it', () => {
    const registry = new RoomRegistry();
    const alice = new SharingTarget('alice');
    const subscription = liveSubscription(registry, alice, 'r', 3);
    const gaps = registry.dispatch('r', [...chain('r', [4, 5], 3), ...chain('r', [9], 7)]);
    expect(alice.seqs()).toEqual([4, 5]);
    expect(alice.shared).toHaveLength(1);
    expect(gaps).toEqual([subscription]);
    expect(subscription.bufferedCount).toBe(1);
  });
});
