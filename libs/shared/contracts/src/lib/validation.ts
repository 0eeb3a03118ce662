import type { ZodError, ZodType, ZodTypeDef } from 'zod';

export type Validated<T> = { ok: true; value: T } | { ok: false; message: string };

/** One readable line naming every bad field, e.g. `messages.3.roomId: must be ...; payload: is required`. */
export function describeZodError(error: ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.join('.');
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join('; ');
}

export function validate<T>(schema: ZodType<T, ZodTypeDef, unknown>, input: unknown): Validated<T> {
  const parsed = schema.safeParse(input);
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, message: describeZodError(parsed.error) };
}
