/**
 * The few points where the Socket.IO gateway hands presence its sockets, kept here so the
 * gateway itself only calls them. PresenceService is optional: without it (a host that did not
 * enable presence) a subscribe asking for presence is refused and `presence` answers an error.
 */
import type { Logger } from '@nestjs/common';
import { canAccessRoom } from '@seqcast/auth';
import { ErrorCode, type PresenceAck, presenceRequestSchema, validate } from '@seqcast/contracts';
import { type GatewaySocket, userOf } from '../socket-types';
import type { PresenceParticipant, PresenceService } from './presence.service';

function participant(socket: GatewaySocket): PresenceParticipant {
  return {
    id: socket.id,
    userId: userOf(socket),
    emit: (event, payload) => socket.emit(event, payload),
  };
}

/** Before subscribing: joins the room's presence; an error message if it cannot (the subscribe fails). */
export async function joinPresence(
  presence: PresenceService | undefined,
  socket: GatewaySocket,
  roomId: string,
  logger: Logger,
): Promise<{ code: ErrorCode; message: string } | undefined> {
  if (!presence) return { code: ErrorCode.InvalidRequest, message: 'presence is not enabled on this gateway' };
  try {
    await presence.join(participant(socket), roomId);
    return undefined;
  } catch (error) {
    logger.warn(`presence join ${roomId} failed: ${error instanceof Error ? error.message : String(error)}`);
    void presence.leave(socket.id, roomId).catch(() => undefined);
    return { code: ErrorCode.Unavailable, message: 'presence is unavailable, retry later' };
  }
}

/** Unsubscribe, revocation or a failed subscribe: the socket leaves the room's presence. */
export function leavePresence(presence: PresenceService | undefined, socketId: string, roomId: string, logger: Logger): void {
  presence?.leave(socketId, roomId).catch((error: unknown) => {
    // The row stays until this gateway's lease ends; nothing else to do.
    logger.warn(`presence leave ${roomId} failed: ${error instanceof Error ? error.message : String(error)}`);
  });
}

export function leaveAllPresence(presence: PresenceService | undefined, socketId: string, logger: Logger): void {
  presence?.leaveAll(socketId).catch((error: unknown) => {
    logger.warn(`presence leave-all failed: ${error instanceof Error ? error.message : String(error)}`);
  });
}

/** The `presence` request: the room's members, for a token that may subscribe to it. */
export async function presenceList(
  presence: PresenceService | undefined,
  socket: GatewaySocket,
  body: unknown,
  logger: Logger,
): Promise<PresenceAck> {
  const request = validate(presenceRequestSchema, body);
  if (!request.ok) return failed(ErrorCode.InvalidRequest, request.message);
  const principal = socket.data.principal;
  if (!principal) return failed(ErrorCode.Unauthorized, 'not authenticated');
  const { roomId } = request.value;
  if (!canAccessRoom(principal, 'subscribe', roomId)) {
    return failed(ErrorCode.Forbidden, `token does not grant subscribe to room ${roomId}`);
  }
  if (!presence) return failed(ErrorCode.InvalidRequest, 'presence is not enabled on this gateway');
  try {
    return { ok: true, roomId, ...(await presence.list(roomId)) };
  } catch (error) {
    logger.warn(`presence list ${roomId} failed: ${error instanceof Error ? error.message : String(error)}`);
    return failed(ErrorCode.Unavailable, 'presence is unavailable, retry later');
  }
}

function failed(code: ErrorCode, message: string): PresenceAck {
  return { ok: false, error: { code, message } };
}
