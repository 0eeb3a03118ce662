/**
 * One SSE response as a DeliveryTarget: the same subscription machinery as a Socket.IO socket
 * (replay then live, chain checks, the backlog bound), over a text/event-stream.
 *
 * SSE has no acks, so the stream acks for the client what the kernel has taken: each write's
 * callback acks the last seq it carried. That keeps replay paced by the connection and the
 * backlog meaningful: a reader that stops reading stops those callbacks, its backlog grows and
 * the bound ends the stream with `slow_consumer`, exactly as for a socket. Redelivery (meant for
 * a client that lost frames) never writes a message twice on one stream: every seq at or below
 * the last one written is skipped, so the stream never carries a duplicate. Losing the connection
 * is healed by the client resuming with Last-Event-ID, not by redelivery.
 */
import type { ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Message, MessagesEvent, SubscribeOk } from '@seqcast/contracts';
import type { Backlog, DeliveryTarget, SharedFrame } from '../delivery-session';
import { KICK_GRACE_MS } from '../socket-target';
import { encodeSseComment, encodeSseEvent, encodeSseMessages } from './sse-frames';
import { type SseEndReason, sseMetrics } from './sse.metrics';

export interface SseStreamOptions {
  /** GATEWAY_SSE_HEARTBEAT_MS: a comment line this often keeps proxies and clients from timing out. */
  heartbeatMs: number;
  /** GATEWAY_SSE_RETRY_MS: the reconnection delay the stream tells EventSource when it opens. */
  retryMs: number;
}

/** The reconnection delay sent just before a drain ends a stream: the client should come back at once. */
export const SSE_DRAIN_RETRY_MS = 100;
/** setTimeout's largest delay; a later token expiry is re-armed in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface SseStreamHooks {
  /** The kernel took everything up to `seq`: the subscription's cumulative ack. */
  ack(seq: number): void;
  /** The response is gone (whatever ended it), exactly once. */
  closed(stream: SseStream): void;
}

/** The SSE text of a shared live frame, encoded once for every stream at the room's head. */
const sharedText = new WeakMap<SharedFrame, string>();

export const SSE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  // no-transform: compressing proxies must not buffer the stream.
  'Cache-Control': 'no-cache, no-transform',
  Connection: 'keep-alive',
  // nginx (and ingress-nginx) buffer responses unless told not to.
  'X-Accel-Buffering': 'no',
};

export class SseStream implements DeliveryTarget {
  readonly id = `sse:${randomUUID()}`;
  private opened = false;
  /** Counted in the open-streams gauge (a real stream, not a refusal). */
  private counted = false;
  private ending = false;
  private closed = false;
  private lastWritten = -Infinity;
  private heartbeat: NodeJS.Timeout | undefined;
  private expiry: NodeJS.Timeout | undefined;
  private endReason: SseEndReason = 'client_closed';

  constructor(
    private readonly response: ServerResponse,
    readonly roomId: string,
    private readonly options: SseStreamOptions,
    private readonly hooks: SseStreamHooks,
  ) {
    response.once('close', () => this.onClose());
  }

  get isOpen(): boolean {
    return this.opened && !this.ending && !this.closed;
  }

  /**
   * The subscription took effect: 200, the client's reconnection delay, and the subscribe
   * acknowledgement as a `subscribed` event (before any message). Headers are extra response
   * headers (CORS).
   */
  open(ack: SubscribeOk, headers: Record<string, string>, expiresAt: Date | undefined): void {
    if (this.closed || this.opened) return;
    this.opened = true;
    this.response.writeHead(200, { ...SSE_HEADERS, ...headers });
    // Nagle would hold small events back waiting for more.
    this.response.socket?.setNoDelay(true);
    this.write(encodeSseEvent({ retryMs: this.options.retryMs, event: 'subscribed', data: JSON.stringify(ack) }));
    this.heartbeat = setInterval(() => this.write(encodeSseComment('heartbeat')), this.options.heartbeatMs);
    this.heartbeat.unref();
    if (expiresAt) this.armExpiry(expiresAt.getTime());
    sseMetrics.openStreams.inc();
    this.counted = true;
  }

  /**
   * A 200 stream that only says why it ends and when to come back: EventSource retries after a
   * 200 that ends, but gives up for good after any other status, so temporary refusals
   * (draining, history unavailable) must look like this.
   */
  refuseRetryable(reason: 'unavailable' | 'server_draining', message: string, headers: Record<string, string>): void {
    if (this.closed || this.opened) return;
    this.opened = true;
    this.endReason = reason;
    this.ending = true;
    this.response.writeHead(200, { ...SSE_HEADERS, ...headers });
    this.response.end(
      encodeSseEvent({
        retryMs: this.options.retryMs,
        event: 'unavailable',
        data: JSON.stringify({ error: { code: 'unavailable', message } }),
      }),
    );
  }

  deliver(event: MessagesEvent): void {
    this.writeMessages(event.messages);
  }

  deliverShared(frame: SharedFrame): void {
    const messages = frame.event.messages;
    if (messages.length === 0 || messages[0].seq <= this.lastWritten) return this.writeMessages(messages);
    let text = sharedText.get(frame);
    if (text === undefined) {
      text = encodeSseMessages(messages);
      sharedText.set(frame, text);
    }
    this.writeAndAck(text, messages[messages.length - 1].seq);
  }

  /** Bytes Node and the kernel socket still hold for this client. */
  transportBacklog(): Backlog {
    return { messages: 0, bytes: this.response.writableLength };
  }

  slowConsumer(backlog: Backlog): void {
    this.end('slow_consumer', { event: 'slow_consumer', data: JSON.stringify({ backlog }) });
  }

  /** Drain started: this stream is served for `reconnectInMs` more, then ended (`endForRestart`). */
  announceRestart(reconnectInMs: number): void {
    if (!this.isOpen) return;
    this.write(encodeSseEvent({ event: 'server_restart', data: JSON.stringify({ reconnectInMs }) }));
  }

  /** Ends the stream with a short reconnection delay: EventSource comes back at once (elsewhere). */
  endForRestart(): void {
    this.end('server_restart', { retryMs: SSE_DRAIN_RETRY_MS });
  }

  /**
   * Ends the response after a last event. A client that stopped reading never lets it finish, so
   * the connection is cut KICK_GRACE_MS later if it is still there.
   */
  end(reason: SseEndReason, last?: Parameters<typeof encodeSseEvent>[0]): void {
    if (this.closed || this.ending) return;
    this.ending = true;
    this.endReason = reason;
    this.stopTimers();
    if (!this.opened) {
      this.response.destroy();
      return;
    }
    this.response.end(last ? encodeSseEvent(last) : undefined);
    const timer = setTimeout(() => {
      if (!this.closed) this.response.destroy();
    }, KICK_GRACE_MS);
    timer.unref();
  }

  private writeMessages(messages: readonly Message[]): void {
    let first = 0;
    while (first < messages.length && messages[first].seq <= this.lastWritten) first++;
    if (first === messages.length) return;
    const fresh = first === 0 ? messages : messages.slice(first);
    this.writeAndAck(encodeSseMessages(fresh), fresh[fresh.length - 1].seq);
  }

  private writeAndAck(text: string, lastSeq: number): void {
    if (!this.isOpen) return;
    this.lastWritten = lastSeq;
    // The callback runs once the bytes are handed to the kernel (or with an error if the
    // connection died, when nothing is acked: the subscription is gone anyway).
    this.response.write(text, (error) => {
      // Once ending, the subscription is gone or going: a late ack would only count as invalid.
      if (!error && !this.closed && !this.ending) this.hooks.ack(lastSeq);
    });
  }

  private write(text: string): void {
    if (this.isOpen) this.response.write(text);
  }

  private armExpiry(expiresAtMs: number): void {
    const delay = expiresAtMs - Date.now();
    this.expiry = setTimeout(
      () => {
        if (Date.now() < expiresAtMs) return this.armExpiry(expiresAtMs);
        this.end('token_expired', {
          event: 'token_expired',
          data: JSON.stringify({ expiredAt: new Date(expiresAtMs).toISOString() }),
        });
      },
      Math.max(0, Math.min(delay, MAX_TIMER_MS)),
    );
    this.expiry.unref();
  }

  private stopTimers(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.expiry) clearTimeout(this.expiry);
    this.heartbeat = undefined;
    this.expiry = undefined;
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopTimers();
    if (this.counted) sseMetrics.openStreams.dec();
    sseMetrics.streamsEnded.inc({ reason: this.endReason });
    this.hooks.closed(this);
  }
}
