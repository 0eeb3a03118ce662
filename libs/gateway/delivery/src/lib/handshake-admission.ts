/**
 * Admission control for handshakes (docs/protocol.md "Busy: server_busy"). A restart storm brings
 * every client of a drained instance to the next one within the drain spread; an instance that
 * starts every handshake at once finishes none of them in time (clients give up after
 * socket.io's 20 s and queue again), and one whose accept queue overflows makes clients wait out
 * TCP's SYN retransmits (1, 3, 7, 15, 31 s). So at most `maxInFlight` handshakes are in progress;
 * the next one is refused at once with connect_error `server_busy` and `{ retryAfterMs }`.
 *
 * A handshake holds its slot from admission until its first `subscribe` is answered (the resume
 * is the expensive part of a reconnect), or `IDLE_AFTER_CONNECT_MS` after the connect when it has
 * not sent a subscribe by then (a client that only publishes), or its connection closes (refused
 * by a later middleware, or gone), or `MAX_SLOT_MS` passed in any case.
 *
 * `retryAfterMs` is a place in a virtual queue: the refused are handed out successive moments
 * spaced by the time one slot takes to free at the measured pace (mean handshake time /
 * maxInFlight), so 10,000 refused clients come back spread over the time the instance needs to
 * admit them, about once each, instead of all retrying every second.
 */
import { SERVER_BUSY_CONNECT_ERROR, type ServerBusyData } from '@seqcast/contracts';

export interface HandshakeAdmissionOptions {
  /** GATEWAY_MAX_HANDSHAKES_IN_FLIGHT; 0: no bound. */
  maxInFlight: number;
  /** Default IDLE_AFTER_CONNECT_MS (tests hold slots longer). */
  idleAfterConnectMs?: number;
}

/** A connection that has not sent `subscribe` this long after its connect frees its slot. */
export const IDLE_AFTER_CONNECT_MS = 500;
/** A slot is freed this long after admission whatever the handshake is doing. */
export const MAX_SLOT_MS = 10_000;
/** Bounds of the hint: not sooner than a round trip is worth, never a reason to wait for long. */
export const MIN_RETRY_AFTER_MS = 100;
export const MAX_RETRY_AFTER_MS = 30_000;
/** Mean handshake time assumed before any was measured. */
const INITIAL_HANDSHAKE_MS = 200;
/** Weight of each new handshake time in the running mean. */
const MEAN_WEIGHT = 0.05;

/** The slice of a handshaking socket admission touches. */
export interface AdmissibleSocket {
  conn: { close(): void; once(event: 'close', listener: () => void): unknown };
}

interface Slot {
  admittedAt: number;
  timer: ReturnType<typeof setTimeout>;
  subscribing: boolean;
}

export class HandshakeAdmission {
  private readonly slots = new Map<AdmissibleSocket, Slot>();
  private meanHandshakeMs = INITIAL_HANDSHAKE_MS;
  /** The next retry moment to hand out (virtual queue); in the past when nobody waits. */
  private nextRetryAt = 0;

  constructor(
    private readonly options: HandshakeAdmissionOptions,
    private readonly now: () => number = Date.now,
  ) {}

  get inFlight(): number {
    return this.slots.size;
  }

  /** io middleware, first after the drain's: admits the handshake or refuses it `server_busy`. */
  middleware(
    onRefused: (retryAfterMs: number) => void = () => undefined,
  ): (socket: AdmissibleSocket, next: (error?: Error) => void) => void {
    return (socket, next) => {
      if (this.options.maxInFlight <= 0) return next();
      if (this.slots.size < this.options.maxInFlight) {
        this.admit(socket);
        return next();
      }
      const retryAfterMs = this.retryAfterMs();
      onRefused(retryAfterMs);
      const data: ServerBusyData = { retryAfterMs };
      next(Object.assign(new Error(SERVER_BUSY_CONNECT_ERROR), { data }));
      // Nothing else will happen on this connection: close it once the connect_error is written.
      setImmediate(() => socket.conn.close());
    };
  }

  /** The socket is connected (every middleware passed): it has a moment to start subscribing. */
  connected(socket: AdmissibleSocket): void {
    const slot = this.slots.get(socket);
    if (!slot || slot.subscribing) return;
    this.releaseAfter(socket, slot, Math.min(this.options.idleAfterConnectMs ?? IDLE_AFTER_CONNECT_MS, this.remaining(slot)));
  }

  /** A `subscribe` of the socket started: the slot is held until it is answered. */
  subscribing(socket: AdmissibleSocket): void {
    const slot = this.slots.get(socket);
    if (!slot || slot.subscribing) return;
    slot.subscribing = true;
    this.releaseAfter(socket, slot, this.remaining(slot));
  }

  /** The socket's first `subscribe` was answered (or it disconnected): its handshake is over. */
  release(socket: AdmissibleSocket): void {
    const slot = this.slots.get(socket);
    if (!slot) return;
    this.slots.delete(socket);
    clearTimeout(slot.timer);
    const tookMs = Math.max(0, this.now() - slot.admittedAt);
    this.meanHandshakeMs += MEAN_WEIGHT * (tookMs - this.meanHandshakeMs);
  }

  private admit(socket: AdmissibleSocket): void {
    const slot: Slot = {
      admittedAt: this.now(),
      timer: setTimeout(() => this.release(socket), MAX_SLOT_MS),
      subscribing: false,
    };
    this.slots.set(socket, slot);
    socket.conn.once('close', () => this.release(socket));
  }

  /** The slot's one timer, re-armed: released `ms` from now unless something releases it first. */
  private releaseAfter(socket: AdmissibleSocket, slot: Slot, ms: number): void {
    clearTimeout(slot.timer);
    slot.timer = setTimeout(() => this.release(socket), ms);
  }

  private remaining(slot: Slot): number {
    return Math.max(0, slot.admittedAt + MAX_SLOT_MS - this.now());
  }

  /** The next place in the virtual queue, as a delay from now. */
  private retryAfterMs(): number {
    const now = this.now();
    const spacingMs = this.meanHandshakeMs / this.options.maxInFlight;
    // Capped: past the longest hint the queue hands out the same moment (clients add jitter).
    this.nextRetryAt = Math.min(Math.max(this.nextRetryAt, now) + spacingMs, now + MAX_RETRY_AFTER_MS);
    return Math.round(Math.min(MAX_RETRY_AFTER_MS, Math.max(MIN_RETRY_AFTER_MS, this.nextRetryAt - now)));
  }
}
