/**
 * Presence across gateways (docs/protocol.md "Presence"), kept in PostgreSQL:
 *
 *  - a socket that subscribes with `presence: true` gets a row (room, user, this gateway, socket);
 *    unsubscribe or disconnect deletes it;
 *  - this gateway renews its lease every TTL/3; a gateway that dies (kill -9, lost node) stops
 *    renewing, its rows stop counting the moment its lease expires, and any gateway's next sweep
 *    deletes them: a crashed gateway's members are gone within GATEWAY_PRESENCE_TTL_MS;
 *  - every GATEWAY_PRESENCE_POLL_MS the gateway reads the members of the rooms its presence
 *    sockets are in (one query for all of them, at most MAX_MEMBERS + 1 rows per room) and sends
 *    the difference to the last read as `presence_join` / `presence_leave`.
 *
 * Why PostgreSQL and polling rather than a compacted Kafka topic: membership is a small mutable
 * set with expiry, which a table with leases and a sweep expresses directly and a reader can list
 * with one indexed query; a compacted topic would need every gateway to read the whole topic to
 * know any room, and tombstones for a crashed gateway would have to be written by someone else
 * anyway. Polling bounds the cost per room (one read per poll per gateway that has presence
 * sockets in it, whatever the churn) at the price of up to one poll interval of latency.
 */
import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { PresenceChangeEvent, PresenceMember } from '@seqcast/contracts';
import type { PresenceStore, RoomMembers } from './presence.store';

export interface PresenceOptions {
  /** This gateway incarnation's id (unique per process: a restart is a new member set). */
  gatewayId: string;
  /** GATEWAY_PRESENCE_TTL_MS: a gateway that stops renewing loses its members after this. */
  ttlMs: number;
  /** GATEWAY_PRESENCE_POLL_MS: how often join/leave is computed for rooms with presence sockets here. */
  pollMs: number;
  /** GATEWAY_PRESENCE_MAX_MEMBERS: members listed per room; events only for rooms at or under it. */
  maxMembers: number;
}

/** A socket taking part in presence, as the service sees it. */
export interface PresenceParticipant {
  readonly id: string;
  readonly userId: string;
  emit(event: 'presence_join' | 'presence_leave', payload: PresenceChangeEvent): void;
}

export interface PresenceList {
  members: PresenceMember[];
  truncated: boolean;
}

@Injectable()
export class PresenceService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(PresenceService.name);
  /** room → participants here (sockets that subscribed with presence), each with what it knows. */
  private readonly rooms = new Map<string, Map<string, Watching>>();
  /** socket → its presence rooms. */
  private readonly bySocket = new Map<string, Set<string>>();
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private polling = false;
  private stopped = false;

  constructor(
    private readonly store: PresenceStore,
    readonly options: PresenceOptions,
  ) {}

  /** The lease exists before any row is written, so no sweep can take a row of a live gateway. */
  async onModuleInit(): Promise<void> {
    await this.store.renewLease(this.options.gatewayId, this.options.ttlMs);
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), Math.max(100, Math.floor(this.options.ttlMs / 3)));
    this.heartbeatTimer.unref();
    this.pollTimer = setInterval(() => void this.poll(), this.options.pollMs);
    this.pollTimer.unref();
  }

  /** Graceful shutdown: this gateway's members leave at once rather than after the TTL. */
  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.heartbeatTimer);
    clearInterval(this.pollTimer);
    await this.store.release(this.options.gatewayId).catch((error: unknown) => {
      this.logger.warn(`cannot release presence (it expires after the TTL): ${describe(error)}`);
    });
  }

  async join(participant: PresenceParticipant, roomId: string): Promise<void> {
    let own = this.bySocket.get(participant.id);
    if (!own) {
      own = new Set();
      this.bySocket.set(participant.id, own);
    }
    own.add(roomId);
    await this.store.join(this.options.gatewayId, participant.id, roomId, participant.userId);
    const stillHere = () => this.bySocket.get(participant.id)?.has(roomId) === true;
    // A leave while the insert was in flight may have deleted before it landed: delete again.
    if (!stillHere()) return this.store.leave(this.options.gatewayId, participant.id, roomId);
    // The participant's baseline is read now, after its row went in and before the client hears
    // back: a `presence` list it asks for afterwards plus the events after this baseline cover
    // every change, and it never gets its own arrival as an event.
    const room = (await this.store.members([roomId], this.options.maxMembers)).get(roomId) as RoomMembers;
    if (!stillHere()) return; // left meanwhile (after the insert, so its delete took the row)
    let participants = this.rooms.get(roomId);
    if (!participants) {
      participants = new Map();
      this.rooms.set(roomId, participants);
    }
    participants.set(participant.id, { participant, known: knownFrom(room) });
  }

  async leave(socketId: string, roomId: string): Promise<void> {
    const own = this.bySocket.get(socketId);
    if (!own?.delete(roomId)) return;
    if (own.size === 0) this.bySocket.delete(socketId);
    this.forgetParticipant(socketId, roomId);
    await this.store.leave(this.options.gatewayId, socketId, roomId);
  }

  async leaveAll(socketId: string): Promise<void> {
    const own = this.bySocket.get(socketId);
    if (!own) return;
    this.bySocket.delete(socketId);
    for (const roomId of own) this.forgetParticipant(socketId, roomId);
    await this.store.leaveAll(this.options.gatewayId, socketId);
  }

  async list(roomId: string): Promise<PresenceList> {
    const room = (await this.store.members([roomId], this.options.maxMembers)).get(roomId) as RoomMembers;
    return {
      members: room.members.map((m) => ({ userId: m.userId, since: m.since.toISOString() })),
      truncated: room.truncated,
    };
  }

  /** For tests and operators: rooms with presence sockets here. */
  get roomCount(): number {
    return this.rooms.size;
  }

  private forgetParticipant(socketId: string, roomId: string): void {
    const participants = this.rooms.get(roomId);
    participants?.delete(socketId);
    if (participants && participants.size === 0) this.rooms.delete(roomId);
  }

  private async heartbeat(): Promise<void> {
    if (this.stopped) return;
    try {
      const lapsed = await this.store.renewLease(this.options.gatewayId, this.options.ttlMs);
      if (lapsed) {
        // PostgreSQL was out of reach for longer than the TTL: another gateway may have swept our
        // rows. Put back every membership this gateway still holds.
        const rows = [...this.bySocket].flatMap(([connectionId, rooms]) =>
          [...rooms].map((roomId) => ({
            connectionId,
            roomId,
            userId: this.rooms.get(roomId)?.get(connectionId)?.participant.userId ?? '',
          })),
        );
        await this.store.rejoinAll(this.options.gatewayId, rows.filter((r) => r.userId !== ''));
        this.logger.warn(`presence lease had lapsed; re-registered ${rows.length} memberships`);
      }
      await this.store.sweep();
    } catch (error) {
      this.logger.warn(`presence heartbeat failed: ${describe(error)}`);
    }
  }

  /** One read for every room with presence sockets here; the difference goes out as events. */
  private async poll(): Promise<void> {
    if (this.stopped || this.polling || this.rooms.size === 0) return;
    this.polling = true;
    try {
      const roomIds = [...this.rooms.keys()];
      const current = await this.store.members(roomIds, this.options.maxMembers);
      for (const [roomId, room] of current) {
        const participants = this.rooms.get(roomId);
        if (!participants) continue; // everybody here left while reading
        const now = knownFrom(room);
        for (const watching of participants.values()) {
          const before = watching.known;
          watching.known = now;
          // A truncated list is a window, not the room: its differences would be wrong, so no
          // events while either side is truncated (events resume once the room is under the limit).
          if (before.truncated || now.truncated) continue;
          const { participant } = watching;
          for (const userId of now.users) {
            if (!before.users.has(userId)) participant.emit('presence_join', { roomId, userId });
          }
          for (const userId of before.users) {
            if (!now.users.has(userId)) participant.emit('presence_leave', { roomId, userId });
          }
        }
      }
    } catch (error) {
      this.logger.warn(`presence poll failed: ${describe(error)}`);
    } finally {
      this.polling = false;
    }
  }

}

/** A participant and the members it was last told about (its baseline, then each poll's read). */
interface Watching {
  participant: PresenceParticipant;
  known: Known;
}

interface Known {
  users: ReadonlySet<string>;
  truncated: boolean;
}

function knownFrom(room: RoomMembers): Known {
  return { users: new Set(room.members.map((m) => m.userId)), truncated: room.truncated };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
