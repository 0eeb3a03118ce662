/**
 * Which sockets are subscribed to which rooms, each socket's delivery session, each room's cache
 * of recent messages, and the fan-out of one consumer batch of a room. Pure and synchronous.
 *
 * State exists for rooms somebody is subscribed to, plus recently subscribed rooms kept for
 * their cache (least recently used first out, within GATEWAY_ROOM_CACHE_BYTES), so memory is
 * bounded by subscriptions and the cache budget, not by the rooms flowing through the events topic.
 */
import type { Message } from '@seqcast/contracts';
import { DEFAULT_SESSION_POLICY, type DeliveryTarget, DeliverySession, type SessionPolicy } from './delivery-session';
import { LiveBatch } from './live-batch';
import { RoomCache } from './room-cache';
import { DEFAULT_MAX_BUFFERED, Subscription } from './subscription';

export interface RoomCacheOptions {
  /** GATEWAY_ROOM_CACHE_MESSAGES: recent messages kept per room (0: only the room's head). */
  messagesPerRoom: number;
  /** GATEWAY_ROOM_CACHE_BYTES: all rooms together; least recently used rooms are dropped first. */
  maxBytes: number;
}

export const DEFAULT_ROOM_CACHE: RoomCacheOptions = { messagesPerRoom: 1_000, maxBytes: 64 * 1024 * 1024 };
/** Rooms kept only for their cache (nobody subscribed): beyond this many the oldest go. */
const MAX_IDLE_ROOMS = 10_000;

export interface RegistryOptions {
  maxBufferedPerSubscription?: number;
  /** A room got its first subscriber (true) or lost its last (false). */
  onRoomActivity?: (roomId: string, active: boolean) => void;
  session?: Partial<SessionPolicy>;
  cache?: Partial<RoomCacheOptions>;
}

/** A room's delivery state: its subscribers, its cache and its in-flight history reads. */
export class RoomState {
  /** Highest seq dispatched since this state was created: republished copies (seq <= it) are dropped. */
  lastSeq = -1;
  readonly subscriptions = new Map<string, Subscription>();
  /** Identical history reads in flight, shared by every subscription asking (single-flight). */
  readonly flights = new Map<string, Promise<unknown>>();

  constructor(
    readonly roomId: string,
    readonly cache: RoomCache,
  ) {}
}

export class RoomRegistry {
  private readonly rooms = new Map<string, RoomState>();
  /** Rooms in least-recently-used order (oldest first): Map iteration order is insertion order. */
  private readonly lru = new Map<string, RoomState>();
  private readonly sessions = new Map<string, DeliverySession>();
  private readonly byTarget = new Map<string, Map<string, Subscription>>();
  private readonly maxBuffered: number;
  private readonly onRoomActivity: (roomId: string, active: boolean) => void;
  readonly policy: SessionPolicy;
  private readonly cacheOptions: RoomCacheOptions;
  private subscriptionTotal = 0;
  private subscribedRooms = 0;
  private cacheBytes = 0;

  constructor(options: RegistryOptions = {}) {
    this.maxBuffered = options.maxBufferedPerSubscription ?? DEFAULT_MAX_BUFFERED;
    this.onRoomActivity = options.onRoomActivity ?? (() => undefined);
    this.policy = { ...DEFAULT_SESSION_POLICY, ...options.session };
    this.cacheOptions = { ...DEFAULT_ROOM_CACHE, ...options.cache };
  }

  /** Rooms with at least one subscriber. */
  get roomCount(): number {
    return this.subscribedRooms;
  }

  get subscriptionCount(): number {
    return this.subscriptionTotal;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  get cacheStats(): { rooms: number; messages: number; bytes: number } {
    let rooms = 0;
    let messages = 0;
    for (const room of this.rooms.values()) {
      if (room.cache.size > 0) rooms++;
      messages += room.cache.size;
    }
    return { rooms, messages, bytes: this.cacheBytes };
  }

  /** Largest backlog of any session, and the sum of unacked messages (for the gauges). */
  backlogStats(): { maxMessages: number; maxBytes: number; unacked: number } {
    let maxMessages = 0;
    let maxBytes = 0;
    let unacked = 0;
    for (const session of this.sessions.values()) {
      const backlog = session.backlog();
      maxMessages = Math.max(maxMessages, backlog.messages);
      maxBytes = Math.max(maxBytes, backlog.bytes);
      unacked += session.unackedMessages;
    }
    return { maxMessages, maxBytes, unacked };
  }

  get(targetId: string, roomId: string): Subscription | undefined {
    return this.byTarget.get(targetId)?.get(roomId);
  }

  roomsOf(targetId: string): string[] {
    return [...(this.byTarget.get(targetId)?.keys() ?? [])];
  }

  room(roomId: string): RoomState | undefined {
    return this.rooms.get(roomId);
  }

  session(targetId: string): DeliverySession | undefined {
    return this.sessions.get(targetId);
  }

  /** One kick callback for every session (a closure per session would cost ~100 B each). */
  private readonly onKicked = (kicked: DeliverySession): void => {
    this.removeTarget(kicked.id);
  };

  /** The target's session, created on first use. */
  connect(target: DeliveryTarget): DeliverySession {
    let session = this.sessions.get(target.id);
    if (!session) {
      session = new DeliverySession(target, this.policy, this.onKicked);
      this.sessions.set(target.id, session);
    }
    return session;
  }

  /** Registers a new syncing subscription (live events for it are buffered from this moment on). */
  add(target: DeliveryTarget, roomId: string): Subscription {
    if (this.get(target.id, roomId)) throw new Error(`${target.id} is already subscribed to ${roomId}`);
    const session = this.connect(target);
    const room = this.roomFor(roomId);
    const subscription = new Subscription(session, roomId, this.maxBuffered, room.lastSeq);
    const first = room.subscriptions.size === 0;
    if (first) this.subscribedRooms++;
    room.subscriptions.set(target.id, subscription);
    let own = this.byTarget.get(target.id);
    if (!own) {
      own = new Map();
      this.byTarget.set(target.id, own);
    }
    own.set(roomId, subscription);
    this.subscriptionTotal++;
    if (first) this.onRoomActivity(roomId, true);
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
    this.subscriptionTotal--;
    const own = this.byTarget.get(targetId);
    own?.delete(roomId);
    if (own?.size === 0) this.byTarget.delete(targetId);
    const room = this.rooms.get(roomId);
    if (room?.subscriptions.delete(targetId) && room.subscriptions.size === 0) {
      this.subscribedRooms--;
      this.release(room);
      this.onRoomActivity(roomId, false);
    }
    return subscription;
  }

  /** Drops every subscription and the session of a target (socket disconnected or kicked). */
  removeTarget(targetId: string): Subscription[] {
    const own = [...(this.byTarget.get(targetId)?.keys() ?? [])];
    const removed = own.map((roomId) => this.remove(targetId, roomId)).filter((s): s is Subscription => s !== undefined);
    this.sessions.get(targetId)?.close();
    this.sessions.delete(targetId);
    return removed;
  }

  /** Marks a room as used by a reader (LRU order). */
  touch(room: RoomState): void {
    if (this.rooms.get(room.roomId) !== room) return;
    this.lru.delete(room.roomId);
    this.lru.set(room.roomId, room);
  }

  /**
   * Fans one consumer batch of a room (ascending, in partition order) out to its subscriptions:
   * one delivery per subscription, none awaited; subscriptions at the live head share frames
   * encoded once (LiveBatch). Returns the subscriptions that saw a break in
   * the chain and need their gap repaired from history.
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
    room.cache.recordDispatch(fresh);
    this.enforceCacheBudget();
    // Encoded once for every subscriber at the live head; the others take their own path.
    const batch = new LiveBatch(roomId, fresh);
    const gaps: Subscription[] = [];
    for (const subscription of room.subscriptions.values()) {
      if (subscription.offer(fresh, batch) === 'gap') gaps.push(subscription);
    }
    return gaps;
  }

  /** Forgets the rooms nobody is subscribed to that match (their caches may no longer be kept current). */
  dropIdleRooms(matches: (roomId: string) => boolean): void {
    for (const room of [...this.rooms.values()]) {
      if (room.subscriptions.size === 0 && matches(room.roomId)) this.drop(room);
    }
  }

  /** Called after reads grow a cache: drops least recently used rooms until within budget. */
  enforceCacheBudget(): void {
    if (this.cacheBytes <= this.cacheOptions.maxBytes && this.rooms.size - this.roomCount <= MAX_IDLE_ROOMS) return;
    let idle = this.rooms.size - this.roomCount;
    for (const room of this.lru.values()) {
      if (idle <= MAX_IDLE_ROOMS) break;
      if (room.subscriptions.size > 0) continue;
      this.drop(room);
      idle--;
    }
    // Rooms nobody is subscribed to go first, then the caches of subscribed rooms.
    for (const idleOnly of [true, false]) {
      for (const room of this.lru.values()) {
        if (this.cacheBytes <= this.cacheOptions.maxBytes) return;
        if (idleOnly && room.subscriptions.size > 0) continue;
        room.cache.clear();
        if (room.subscriptions.size === 0) this.drop(room);
      }
    }
  }

  private roomFor(roomId: string): RoomState {
    let room = this.rooms.get(roomId);
    if (!room) {
      room = new RoomState(roomId, new RoomCache(this.cacheOptions.messagesPerRoom, (delta) => (this.cacheBytes += delta)));
      this.rooms.set(roomId, room);
    }
    this.touch(room);
    return room;
  }

  /** The last subscriber left: keep the room for its cache if it has one, else forget it. */
  private release(room: RoomState): void {
    if (room.cache.size === 0 || this.cacheOptions.messagesPerRoom === 0) this.drop(room);
    else this.enforceCacheBudget();
  }

  private drop(room: RoomState): void {
    if (this.rooms.get(room.roomId) !== room) return;
    room.cache.clear();
    this.rooms.delete(room.roomId);
    this.lru.delete(room.roomId);
  }
}
