import { z } from 'zod';

/** Room ids and client message ids share one alphabet: safe in URLs, Kafka keys and log lines. */
export const ID_ALPHABET = /^[A-Za-z0-9._:-]+$/;
export const ROOM_ID_MAX = 128;
export const CLIENT_MSG_ID_MAX = 64;

export const roomIdSchema = z
  .string({ required_error: 'is required', invalid_type_error: 'must be a string' })
  .min(1, `must be 1-${ROOM_ID_MAX} characters of [A-Za-z0-9._:-]`)
  .max(ROOM_ID_MAX, `must be 1-${ROOM_ID_MAX} characters of [A-Za-z0-9._:-]`)
  .regex(ID_ALPHABET, `must be 1-${ROOM_ID_MAX} characters of [A-Za-z0-9._:-]`);

export const clientMsgIdSchema = z
  .string({ required_error: 'is required', invalid_type_error: 'must be a string' })
  .min(1, `must be 1-${CLIENT_MSG_ID_MAX} characters of [A-Za-z0-9._:-]`)
  .max(CLIENT_MSG_ID_MAX, `must be 1-${CLIENT_MSG_ID_MAX} characters of [A-Za-z0-9._:-]`)
  .regex(ID_ALPHABET, `must be 1-${CLIENT_MSG_ID_MAX} characters of [A-Za-z0-9._:-]`);

export function isValidRoomId(value: unknown): value is string {
  return roomIdSchema.safeParse(value).success;
}
