/**
 * The client's rooms (socket.io-client's Socket, centrifuge-js' Subscription): per room, the
 * cursor (epoch, seq) of the last message handed to the app, the subscribe handshake on every
 * connection, and the delivery rule: drop what the cursor covers, deliver what chains onto it,
 * resubscribe from the cursor when something is missing.
 */
import type { Message, MessagesEvent, SubscribeAck, SubscribeRequest } from '@seqcast/contracts/wire';
import type { AckBatcher } from './ack-batcher';
import { backoffDelay } from './backoff';
import type { Emit } from './client-events';
import type { ReconnectOptions } from './client-options';
import { clearTimer, type Connection } from './connection';
import type { Cursor, CursorStore } from './cursor-store';
import { classifyArrival, countFutileHeal, type FutileHeals, NO_FUTILE_HEALS } from './room-cursor';
import { describeError, SeqcastError } from './seqcast-error';

type Timer = ReturnType<typeof setTimeout>;

interface Room {
  readonly roomId: string;
  onMessage: (message: Message) => void;
  /** Last message handed to the app (or the head we were told about); undefined until known. */
  cursor: Cursor | undefined;
  /** Settles once the stored cursor was read; never rejects. */
  loaded: Promise<void>;
  /** `live` only between an ok subscribe ack and the next loss: all other messages are ignored. */
  phase: 'idle' | 'subscribing' | 'live';
  /** Id of the subscribe request whose ack counts; older acks are stale. */
  request: number;
  /** After a reset or truncation the first message cannot chain onto anything we hold. */
  acceptAnyFirst: boolean;
  confirmed: boolean;
  waiters: Array<{ resolve: () => void; reject: (error: SeqcastError) => void }>;
  retryTimer: Timer | undefined;
  /** Runs out when the pending subscribe's ack is late (subscribeTimeoutMs). */
  ackTimeout: Timer | undefined;
  retryAttempt: number;
  lastAckedSeq: number;
  futileHeals: FutileHeals;
  /** subscribe's `last`: replay the latest N when the room has no cursor (a stored cursor wins). */
  last: number | undefined;
  /**
   * Subscribed with `last` and no message received since: the cursor is a placeholder, so a
   * resubscribe asks for the latest N again rather than resuming from it.
   */
  fromLast: boolean;
}

/**
 * After this many resubscribes that still do not chain onto the same cursor, the missing
 * messages are not in the gateway's history either; delivering on beats stalling the room.
 */
const MAX_FUTILE_HEALS = 3;

export interface RoomSubscriptionsOptions {
  connection: Connection;
  store: CursorStore;
  /** Set once, by the client, before the first subscribe. */
  acks: () => AckBatcher;
  subscribeTimeoutMs: number;
  /** Backoff of a subscribe the gateway answered `unavailable`. */
  retry: Required<ReconnectOptions>;
  random: () => number;
  emit: Emit;
  /** The subscribe request as sent: rooms subscribed with `{ presence: true }` ask for it every time (./presence.ts). */
  decorate?: (request: SubscribeRequest) => SubscribeRequest;
}

export class RoomSubscriptions {
  private readonly rooms = new Map<string, Room>();
  private requestCounter = 0;
  /** Pending unsubscribe() calls: a dropped connection answers them (the server forgot the socket). */
  private readonly onDrop = new Set<() => void>();

  constructor(private readonly options: RoomSubscriptionsOptions) {}

  /** The room's ack target, while subscribed. */
  get(roomId: string): Room | undefined {
    return this.rooms.get(roomId);
  }

  subscribe(roomId: string, onMessage: (message: Message) => void, options: { last?: number } = {}): Promise<void> {
    const existing = this.rooms.get(roomId);
    if (existing) {
      existing.onMessage = onMessage;
      return existing.confirmed ? Promise.resolve() : waitFor(existing);
    }
    const room: Room = {
      roomId,
      onMessage,
      cursor: undefined,
      loaded: Promise.resolve(),
      phase: 'idle',
      request: 0,
      acceptAnyFirst: false,
      confirmed: false,
      waiters: [],
      retryTimer: undefined,
      ackTimeout: undefined,
      retryAttempt: 0,
      lastAckedSeq: -1,
      futileHeals: NO_FUTILE_HEALS,
      last: options.last,
      fromLast: false,
    };
    room.loaded = this.loadCursor(room);
    this.rooms.set(roomId, room);
    const confirmed = waitFor(room);
    if (this.options.connection.state === 'connected') void this.sendSubscribe(room);
    return confirmed;
  }

  async unsubscribe(roomId: string): Promise<void> {
    const room = this.rooms.get(roomId);
    if (!room) return;
    this.options.acks().flushRoom(room);
    this.rooms.delete(roomId);
    clearTimer(room.retryTimer);
    clearTimer(room.ackTimeout);
    rejectWaiters(
      room,
      new SeqcastError('unsubscribed', `unsubscribe(${roomId}) was called before the subscription was acknowledged`),
    );
    const transport = this.options.connection.live;
    if (!transport) return;
    await new Promise<void>((resolve, reject) => {
      const done = () => {
        this.onDrop.delete(done);
        resolve();
      };
      this.onDrop.add(done);
      transport.unsubscribe({ roomId }, (ack) => {
        this.onDrop.delete(done);
        if (ack.ok) resolve();
        else reject(new SeqcastError(ack.error.code, ack.error.message));
      });
    });
  }

  /** A connection is up: every room subscribes from its cursor. */
  resubscribeAll(): void {
    for (const room of this.rooms.values()) void this.sendSubscribe(room);
  }

  /** The connection is gone: no room is live, pending unsubscribes are answered. */
  connectionDropped(): void {
    for (const room of this.rooms.values()) {
      room.phase = 'idle';
      clearTimer(room.retryTimer);
      room.retryTimer = undefined;
      clearTimer(room.ackTimeout);
      room.ackTimeout = undefined;
    }
    for (const done of [...this.onDrop]) done();
  }

  /**
   * The client gave up connecting: a subscribe() that never got its ack must not hang forever;
   * acknowledged rooms are kept and resume from their cursors if connect() is called again.
   */
  rejectUnconfirmed(reason: string): void {
    for (const room of [...this.rooms.values()]) {
      if (room.confirmed) continue;
      this.rooms.delete(room.roomId);
      rejectWaiters(
        room,
        new SeqcastError('connection_failed', `could not connect to subscribe to ${room.roomId}: ${reason}`),
      );
    }
  }

  /** The client closed: every room is forgotten (cursors stay in the store). */
  closeAll(): void {
    for (const room of this.rooms.values()) {
      clearTimer(room.retryTimer);
      rejectWaiters(room, new SeqcastError('closed', `client closed before ${room.roomId} was subscribed`));
    }
    this.rooms.clear();
  }

  /** The gateway ended a subscription: a refreshed token no longer grants it. Not resubscribed. */
  revoked(roomId: string, reason: string): void {
    const room = this.rooms.get(roomId);
    if (!room) return;
    this.rooms.delete(roomId);
    this.options.acks().forget(roomId);
    clearTimer(room.retryTimer);
    const error = new SeqcastError('forbidden', `${roomId}: subscription ended by the gateway (${reason})`);
    if (room.waiters.length > 0) rejectWaiters(room, error);
    else this.options.emit('error', error);
  }

  onMessages(event: MessagesEvent): void {
    const room = this.rooms.get(event.roomId);
    if (!room || room.phase !== 'live' || !Array.isArray(event.messages)) return;
    for (const message of event.messages) {
      // The handler may have unsubscribed or closed, and a gap stops the room.
      if (this.rooms.get(room.roomId) !== room || room.phase !== 'live') return;
      const cursor = room.cursor as Cursor;
      const arrival = classifyArrival(cursor, message, room.acceptAnyFirst);
      if (arrival === 'delivered-already') continue;
      if (arrival === 'gap' && !this.giveUpHealing(room, message)) {
        this.options.emit('gap', room.roomId, { expectedPrevSeq: cursor.seq, gotPrevSeq: message.prevSeq });
        this.heal(room);
        return;
      }
      room.acceptAnyFirst = false;
      room.fromLast = false;
      room.futileHeals = NO_FUTILE_HEALS;
      room.cursor = { epoch: message.epoch, seq: message.seq };
      try {
        room.onMessage(message);
      } catch (error) {
        this.options.emit(
          'error',
          new SeqcastError(
            'handler_error',
            `onMessage for ${room.roomId} threw at seq ${message.seq}: ${describeError(error)}`,
          ),
        );
      }
      // Persisted after the handler: a crash in between redelivers rather than loses.
      this.persist(room.roomId, { epoch: message.epoch, seq: message.seq });
      this.options.acks().schedule(room.roomId);
    }
  }

  private async loadCursor(room: Room): Promise<void> {
    try {
      const stored = await this.options.store.get(room.roomId);
      // A cursor set meanwhile (an ack arrived first) is newer than anything stored.
      if (stored && room.cursor === undefined) room.cursor = { epoch: stored.epoch, seq: stored.seq };
    } catch (error) {
      this.options.emit(
        'error',
        new SeqcastError('cursor_store', `reading the cursor of ${room.roomId} failed: ${describeError(error)}`),
      );
    }
  }

  private async sendSubscribe(room: Room): Promise<void> {
    const { connection } = this.options;
    const generation = connection.generation;
    const request = ++this.requestCounter;
    room.request = request;
    room.phase = 'subscribing';
    clearTimer(room.retryTimer);
    room.retryTimer = undefined;
    await room.loaded;
    const transport = connection.transport;
    const stale = () =>
      generation !== connection.generation || this.rooms.get(room.roomId) !== room || room.request !== request;
    if (stale() || !transport) return;
    const cursor = room.fromLast ? undefined : room.cursor;
    const plain: SubscribeRequest = cursor
      ? { roomId: room.roomId, afterSeq: cursor.seq, epoch: cursor.epoch }
      : room.last === undefined
        ? { roomId: room.roomId }
        : { roomId: room.roomId, last: room.last };
    const body = this.options.decorate ? this.options.decorate(plain) : plain;
    clearTimer(room.ackTimeout);
    room.ackTimeout = setTimeout(() => {
      room.ackTimeout = undefined;
      if (!stale()) this.onSubscribeTimeout(room);
    }, this.options.subscribeTimeoutMs);
    transport.subscribe(body, (ack) => {
      if (stale()) return;
      clearTimer(room.ackTimeout);
      room.ackTimeout = undefined;
      this.onSubscribeAck(room, ack, cursor !== undefined, plain.last !== undefined);
    });
  }

  /**
   * A gateway that answers no subscribe is not serving this connection (half-open TCP, a stuck
   * process): replace the connection rather than wait for heartbeats to notice.
   */
  private onSubscribeTimeout(room: Room): void {
    this.options.emit(
      'error',
      new SeqcastError(
        'timeout',
        `subscribe ${room.roomId}: no acknowledgement within ${this.options.subscribeTimeoutMs} ms; reconnecting`,
      ),
    );
    this.options.connection.lost('subscribe_timeout');
  }

  private onSubscribeAck(room: Room, ack: SubscribeAck, resumed: boolean, fromLast: boolean): void {
    const { emit } = this.options;
    if (!ack.ok) {
      const error = new SeqcastError(ack.error.code, `subscribe ${room.roomId}: ${ack.error.message}`);
      if (ack.error.code === 'unavailable') {
        // The gateway's database is down: keep the room and ask again, backing off.
        const delayMs = backoffDelay(room.retryAttempt++, this.options.retry, this.options.random);
        room.phase = 'idle';
        room.retryTimer = setTimeout(() => {
          room.retryTimer = undefined;
          if (this.options.connection.state === 'connected' && this.rooms.get(room.roomId) === room) {
            void this.sendSubscribe(room);
          }
        }, delayMs);
        emit('error', error);
        return;
      }
      // forbidden / invalid_request cannot get better by retrying: the room is dropped.
      this.rooms.delete(room.roomId);
      this.options.acks().forget(room.roomId);
      if (room.waiters.length > 0) rejectWaiters(room, error);
      else emit('error', error);
      return;
    }

    room.retryAttempt = 0;
    if (ack.reset) {
      // Our cursor named another incarnation of the log: its seqs mean nothing now. The gateway
      // replays the new epoch from the start of retained history.
      room.cursor = { epoch: ack.epoch, seq: -1 };
      room.acceptAnyFirst = true;
      room.lastAckedSeq = -1;
      this.persist(room.roomId, undefined);
      emit('reset', room.roomId);
    } else if (fromLast) {
      // The gateway replays the latest N (all <= headSeq) before live: the first of them chains
      // onto a seq we never held, so it is taken as is. Nothing is persisted until it arrives.
      room.cursor = { epoch: ack.epoch, seq: -1 };
      room.acceptAnyFirst = true;
      room.fromLast = true;
    } else if (!resumed || room.cursor === undefined) {
      // No cursor: the stream starts after headSeq, so headSeq is exactly what we now hold.
      room.cursor = { epoch: ack.epoch, seq: ack.headSeq };
      room.acceptAnyFirst = false;
      this.persist(room.roomId, room.cursor);
    } else {
      room.acceptAnyFirst = false;
    }
    if (ack.truncated) {
      room.acceptAnyFirst = true;
      const after = ack.resumeAfterSeq === undefined ? '' : ` after seq ${ack.resumeAfterSeq}`;
      emit(
        'error',
        new SeqcastError('truncated', `${room.roomId}: history older than retention is gone; delivery resumes${after}`),
      );
    }
    room.phase = 'live';
    room.confirmed = true;
    const waiters = room.waiters.splice(0);
    for (const waiter of waiters) waiter.resolve();
  }

  /**
   * Something between the cursor and this message is missing: resubscribe from the cursor and
   * ignore the room's stream until that ack. Unsubscribing first matters: a gateway treats a
   * subscribe for a room the socket already has as a no-op and would not replay.
   */
  private heal(room: Room): void {
    room.phase = 'subscribing';
    this.options.connection.transport?.unsubscribe({ roomId: room.roomId }, () => undefined);
    void this.sendSubscribe(room);
  }

  /** Counts heals that did not move the cursor; true once healing evidently cannot work. */
  private giveUpHealing(room: Room, message: Message): boolean {
    const cursor = room.cursor as Cursor;
    if (message.epoch !== cursor.epoch) return false;
    room.futileHeals = countFutileHeal(room.futileHeals, cursor.seq);
    if (room.futileHeals.count <= MAX_FUTILE_HEALS) return false;
    this.options.emit(
      'error',
      new SeqcastError(
        'protocol',
        `${room.roomId}: the gateway cannot supply the messages between seq ${cursor.seq} and ${message.seq} ` +
          `(prevSeq ${message.prevSeq}); delivering on`,
      ),
    );
    return true;
  }

  private persist(roomId: string, cursor: Cursor | undefined): void {
    try {
      const pending = cursor ? this.options.store.set(roomId, { ...cursor }) : this.options.store.delete(roomId);
      if (pending) pending.catch((error: unknown) => this.storeFailed(roomId, error));
    } catch (error) {
      this.storeFailed(roomId, error);
    }
  }

  private storeFailed(roomId: string, error: unknown): void {
    this.options.emit(
      'error',
      new SeqcastError('cursor_store', `saving the cursor of ${roomId} failed: ${describeError(error)}`),
    );
  }
}

function waitFor(room: Room): Promise<void> {
  return new Promise((resolve, reject) => room.waiters.push({ resolve, reject }));
}

function rejectWaiters(room: Room, error: SeqcastError): void {
  for (const waiter of room.waiters.splice(0)) waiter.reject(error);
}
