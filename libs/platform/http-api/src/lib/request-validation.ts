import { validate } from '@seqcast/contracts';
import type { ZodType, ZodTypeDef } from 'zod';
import { ApiError } from './api-error';

/** Validates one part of a request against its contract schema; a failure is a 400 naming every bad field. */
export function parseRequestPart<T>(schema: ZodType<T, ZodTypeDef, unknown>, input: unknown): T {
  const result = validate(schema, input);
  if (!result.ok) throw ApiError.invalidRequest(result.message);
  return result.value;
}

/**
 * The JSON parser leaves `body` undefined when the request did not declare JSON, and zod would
 * report that (or an array body) without naming the body: say what is actually wrong instead.
 */
export function parseJsonBody<T>(schema: ZodType<T, ZodTypeDef, unknown>, body: unknown): T {
  if (body === undefined) {
    throw ApiError.invalidRequest('request body must be a JSON object sent with Content-Type: application/json');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw ApiError.invalidRequest('request body must be a JSON object');
  }
  return parseRequestPart(schema, body);
}
