import { roomIdSchema } from '@seqcast/contracts';
import { z } from 'zod';
import { parseRequestPart } from './request-validation';

const roomParamSchema = z.object({ roomId: roomIdSchema });

/** The `:roomId` path segment, held to the same rules as a roomId in a body (400 names `roomId`). */
export function parseRoomParam(roomId: unknown): string {
  // Every publish passes here: a valid id needs only the field's own check. The object schema,
  // whose error names the field, is run for an invalid one.
  const checked = roomIdSchema.safeParse(roomId);
  if (checked.success) return checked.data;
  return parseRequestPart(roomParamSchema, { roomId }).roomId;
}
