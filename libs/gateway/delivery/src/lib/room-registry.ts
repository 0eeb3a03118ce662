/**
 * Which sockets are subscribed to which rooms, and the fan-out of one consumer batch of a room to
 * them. Pure and synchronous. State exists only for rooms somebody is subscribed to, so memory is
 * bounded by subscriptions, not by the number of rooms flowing through the events topic.
 */
import type { Message } from '@seqcast/contracts';
import { DEFAULT_MAX_BUFFERED, type DeliveryTarget, Subscription } from './subscription';

interface RoomState {
  /** Highest seq dispatched for the room: republished copies (seq <= lastSeq) are dropped here. */
  lastSeq: number;
  subscriptions: Map<string, Subscription>;
}

export class RoomRegistry {
  private readonly rooms = new Map<string, RoomState>();
  private readonly byTarget = new Map<string, Map<string, Subscription>>();

  constructor(private readonly maxBufferedPerSubscription = DEFAULT_MAX_BUFFERED) {}

  get roomCount(): number {
    return this.rooms.size;
  }

  get subscriptionCount(): number {
    let n = 0;
    for (const room of this.rooms.values()) n += room.subscriptions.size;
    return n;
  }

  get(targetId: string, roomId: string): Subscription | undefined {
    return this.byTarget.get(targetId)?.get(roomId);
  }

  /** Registers a new syncing subscription (live events for it are buffered from this moment on). */
  add(target: DeliveryTarget, roomId: string): Subscription {
    if (this.get(target.id, roomId)) throw new Error(`${target.id} is already subscribed to ${roomId}`);
    const subscription = new Subscription(target, roomId, this.maxBufferedPerSubscription);
    let room = this.rooms.get(roomId);
    if (!room) {
      room = { lastSeq: -1, subscriptions: new Map() };
      this.rooms.set(roomId, room);
    }
    room.subscriptions.set(target.id, subscription);
    let own = this.byTarget.get(target.id);
    if (!own) {
      own = new Map();
      this.byTarget.set(target.id, own);
    }
    own.set(roomId, subscription);
    return subscription;
  }

  /**
   * Removes and closes a subscription. With `only`, removes it only if it is still that instance
   * (a slow subscribe must not remove a newer subscription of the same socket and room).
   */
  remove(targetId: string, roomId: string, only?: Subscription): Subscription | undefined {
    const subscription = this.get(targetId, roomId);
    if (!subscription || (only && subscription !== only)) return undefined;
    subscription.close();
    const own = this.byTarget.get(targetId);
    own?.delete(roomId);
    if (own?.size === 0) this.byTarget.delete(targetId);
    const room = this.rooms.get(roomId);
    room?.subscriptions.delete(targetId);
    if (room?.subscriptions.size === 0) this.rooms.delete(roomId);
    return subscription;
  }

  /** Drops every subscription of a target (socket disconnected). */
  removeTarget(targetId: string): Subscription[] {
    const own = [...(this.byTarget.get(targetId)?.keys() ?? [])];
    return own.map((roomId) => this.remove(targetId, roomId)).filter((s): s is Subscription => s !== undefined);
  }

  /**
   * Fans one consumer batch of a room (ascending, in partition order) out to its subscriptions:
   * one delivery per subscription. Returns the subscriptions that saw a break in the chain and
   * need their gap repaired from PostgreSQL.
   */
  dispatch(roomId: string, messages: readonly Message[]): Subscription[] {
    const room = this.rooms.get(roomId);
    if (!room) return [];
    const fresh: Message[] = [];
    for (const m of messages) {
      if (m.seq <= room.lastSeq) continue;
      fresh.push(m);
      room.lastSeq = m.seq;
    }
    if (fresh.length === 0) return [];
    const gaps: Subscription[] = [];
    for (const subscription of room.subscriptions.values()) {
      if (subscription.offer(fresh) === 'gap') gaps.push(subscription);
    }
    return gaps;
  }
}
