/**
 * One connected socket as the delivery path sees it: where its messages go, how much it owes
 * (messages and bytes delivered but not acknowledged, across all its rooms, plus whatever the
 * transport still holds), and the bound past which it is cut off as a slow consumer.
 *
 * Sending never waits for the client: Socket.IO's emit only queues. A socket that stops reading
 * or acking grows its backlog until the bound kicks it, so it can never hold up anybody else.
 */
import type { Message, MessagesEvent } from '@seqcast/contracts';
import { type DropReason, gatewayMetrics } from './gateway.metrics';
import { totalBytes } from './message-meta';

export interface Backlog {
  messages: number;
  bytes: number;
}

/**
 * One `messages` frame of a room's live batch, shared by every subscriber at the room's live
 * head: the transport encodes it once (the first target that writes it stores its encoding
 * here) and writes the same bytes to every socket, instead of encoding it per subscriber.
 */
export class SharedFrame {
  readonly event: MessagesEvent;
  readonly bytes: number;
  /** The transport's encoding of `event`, made on first use and reused for every socket. */
  encoded: unknown = undefined;

  constructor(roomId: string, messages: Message[]) {
    this.event = { roomId, messages };
    this.bytes = totalBytes(messages);
  }
}

/** Where a socket's messages go: a Socket.IO socket in production, a recorder in tests. */
export interface DeliveryTarget {
  readonly id: string;
  deliver(event: MessagesEvent): void;
  /** Writes a shared frame (same wire bytes as `deliver(frame.event)`); absent: `deliver` is used. */
  deliverShared?(frame: SharedFrame): void;
  /** What the transport still holds for this client (queued packets, buffered bytes), if known. */
  transportBacklog?(): Backlog;
  /** Past the backlog bound: tell the client and disconnect it. The service forgets it right after. */
  slowConsumer?(backlog: Backlog): void;
}

export interface SessionPolicy {
  /** GATEWAY_ACK_TIMEOUT_MS: deliveries not acked within this are re-sent (then with backoff). */
  ackTimeoutMs: number;
  /** GATEWAY_MAX_BACKLOG_MESSAGES */
  maxBacklogMessages: number;
  /** GATEWAY_MAX_BACKLOG_BYTES */
  maxBacklogBytes: number;
  /** Replay pauses while a subscription has more than this many unacked messages. */
  replayWindowMessages: number;
}

export const DEFAULT_SESSION_POLICY: SessionPolicy = {
  ackTimeoutMs: 10_000,
  maxBacklogMessages: 5_000,
  maxBacklogBytes: 8 * 1024 * 1024,
  replayWindowMessages: 1_000,
};

export type DeliveryKind = 'live' | 'replay' | 'redelivery';

export class DeliverySession {
  private _unackedMessages = 0;
  private _unackedBytes = 0;
  private gone = false;
  /** Replays waiting for acks; only while one waits (an idle session holds none). */
  private creditWaiters: (() => void)[] | undefined;

  constructor(
    readonly target: DeliveryTarget,
    readonly policy: SessionPolicy,
    /** Called once when the session is kicked; the owner forgets the target. */
    private readonly onKicked: (session: DeliverySession) => void = () => undefined,
  ) {}

  get id(): string {
    return this.target.id;
  }
  /** False once kicked or disconnected: nothing is sent any more. */
  get active(): boolean {
    return !this.gone;
  }
  get unackedMessages(): number {
    return this._unackedMessages;
  }
  get unackedBytes(): number {
    return this._unackedBytes;
  }

  /** Emits one event; false (and counted as dropped) if the socket is gone or the emit throws. */
  send(event: MessagesEvent, kind: DeliveryKind, shared?: SharedFrame): boolean {
    if (this.gone) {
      this.dropped('disconnected', event.messages.length);
      return false;
    }
    try {
      if (shared && this.target.deliverShared) this.target.deliverShared(shared);
      else this.target.deliver(event);
    } catch {
      this.dropped('emit_failed', event.messages.length);
      return false;
    }
    gatewayMetrics.deliveredMessages.inc({ kind }, event.messages.length);
    return true;
  }

  /** Unacked bookkeeping of its subscriptions: positive when delivering, negative on acks. */
  track(messages: number, bytes: number): void {
    this._unackedMessages += messages;
    this._unackedBytes += bytes;
    if (messages < 0) this.notifyCredit();
  }

  /**
   * The larger of what the client has not acked and what the transport still holds (in the
   * normal case the latter is a subset of the former; it matters for non-message frames).
   */
  backlog(): Backlog {
    const transport = this.target.transportBacklog?.() ?? { messages: 0, bytes: 0 };
    return {
      messages: Math.max(this._unackedMessages, transport.messages),
      bytes: Math.max(this._unackedBytes, transport.bytes),
    };
  }

  /** Kicks the session if its backlog passed the bound. True if it was kicked. */
  enforceBound(): boolean {
    if (this.gone) return false;
    const backlog = this.backlog();
    if (backlog.messages <= this.policy.maxBacklogMessages && backlog.bytes <= this.policy.maxBacklogBytes) {
      return false;
    }
    this.gone = true;
    gatewayMetrics.slowConsumerKicks.inc();
    try {
      this.target.slowConsumer?.(backlog);
    } finally {
      this.onKicked(this);
      this.notifyCredit();
    }
    return true;
  }

  /**
   * Replay may send another chunk: the subscription is within its replay window and the socket
   * within half its bound (the other half absorbs live traffic meanwhile).
   */
  hasReplayCredit(subscriptionUnacked: number): boolean {
    return (
      subscriptionUnacked < this.policy.replayWindowMessages &&
      this._unackedMessages < this.policy.maxBacklogMessages / 2 &&
      this._unackedBytes < this.policy.maxBacklogBytes / 2
    );
  }

  /** Replay budget in bytes for the next chunk (at least one message is always allowed). */
  replayBytesLeft(): number {
    return this.policy.maxBacklogBytes / 2 - this._unackedBytes;
  }

  /** Resolves at the next ack progress or when the session ends (callers re-check). */
  whenCredit(): Promise<void> {
    if (this.gone) return Promise.resolve();
    return new Promise((resolve) => (this.creditWaiters ??= []).push(resolve));
  }

  /** The socket disconnected: stop sending, release waiting replays. */
  close(): void {
    this.gone = true;
    this.notifyCredit();
  }

  private notifyCredit(): void {
    const waiters = this.creditWaiters;
    if (!waiters) return;
    this.creditWaiters = undefined;
    for (const resolve of waiters) resolve();
  }

  private dropped(reason: DropReason, count: number): void {
    gatewayMetrics.droppedDeliveries.inc({ reason }, count);
  }
}
