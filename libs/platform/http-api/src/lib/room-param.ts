import { roomIdSchema } from '@seqcast/contracts';
import { z } from 'zod';
import { parseRequestPart } from './request-validation';

const roomParamSchema = z.object({ roomId: roomIdSchema });

/** The `:roomId` path segment, held to the same rules as a roomId in a body (400 names `roomId`). */
export function parseRoomParam(roomId: unknown): string {
  return parseRequestPart(roomParamSchema, { roomId }).roomId;
}
