/**
 * Presence in the SDK (docs/protocol.md "Presence"): which rooms take part (their subscribe asks
 * the gateway for `presence: true`, on every resubscribe too, so a reconnect to another gateway
 * makes the user a member there again), the `presence` request, and the `presence_join` /
 * `presence_leave` events. Kept apart from SeqcastClient, which only hooks it in.
 */
import type { PresenceAck, PresenceChangeEvent, PresenceMember, SubscribeRequest } from '@seqcast/contracts/wire';
import { SeqcastError } from './seqcast-error';

export type { PresenceMember } from '@seqcast/contracts/wire';

export interface PresenceList {
  roomId: string;
  /** At most the gateway's GATEWAY_PRESENCE_MAX_MEMBERS members, ascending userId. */
  members: PresenceMember[];
  /** More members exist than were listed (the room gets no join/leave events while so). */
  truncated: boolean;
}

export interface PresenceChange extends PresenceChangeEvent {
  type: 'join' | 'leave';
}

/** The part of a transport presence needs (present on the SDK's Socket.IO transport). */
export interface PresenceTransport {
  presence?(request: { roomId: string }, ack: (response: PresenceAck) => void): void;
}

export class PresenceTracker {
  private readonly rooms = new Set<string>();
  private readonly listeners = new Set<(change: PresenceChange) => void>();

  constructor(
    /** The connected transport, or undefined while there is none. */
    private readonly transport: () => PresenceTransport | undefined,
    /** How long a `presence` request may wait for its answer (the client's subscribeTimeoutMs). */
    private readonly timeoutMs: () => number,
  ) {}

  /** The room's subscribes (from now on, and every resubscribe) ask for presence. */
  want(roomId: string): void {
    this.rooms.add(roomId);
  }

  forget(roomId: string): void {
    this.rooms.delete(roomId);
  }

  /** The subscribe request as sent: with `presence: true` for a room that takes part. */
  decorate(request: SubscribeRequest): SubscribeRequest {
    return this.rooms.has(request.roomId) ? { ...request, presence: true } : request;
  }

  /** The room's members across gateways; needs a connection. */
  list(roomId: string): Promise<PresenceList> {
    const transport = this.transport();
    if (!transport?.presence) {
      return Promise.reject(new SeqcastError('network', `presence(${roomId}) needs a connection (state is not connected)`));
    }
    const send = transport.presence.bind(transport);
    const timeoutMs = this.timeoutMs();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new SeqcastError('timeout', `presence(${roomId}): no answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
      send({ roomId }, (ack) => {
        clearTimeout(timer);
        if (ack.ok) resolve({ roomId: ack.roomId, members: ack.members, truncated: ack.truncated });
        else reject(new SeqcastError(ack.error.code, `presence(${roomId}): ${ack.error.message}`));
      });
    });
  }

  /** Joins and leaves in rooms this client takes part in; returns the unsubscribe function. */
  onChange(listener: (change: PresenceChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** From the transport: a join or leave the gateway announced. */
  dispatch(type: PresenceChange['type'], event: PresenceChangeEvent): void {
    if (!this.rooms.has(event.roomId)) return; // late event of a room we left
    for (const listener of [...this.listeners]) {
      try {
        listener({ type, roomId: event.roomId, userId: event.userId });
      } catch {
        // A throwing listener must not break delivery.
      }
    }
  }
}
