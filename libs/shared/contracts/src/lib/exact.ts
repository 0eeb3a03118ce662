/**
 * Compile-time only: ties each zod schema to the plain wire type it validates (../wire.ts), so a
 * field added, removed, renamed, retyped or made optional on one side and not the other fails
 * `tsc`. Mutual assignability is not enough (an extra optional field passes it both ways), hence
 * the identity test.
 */

/** `true` only if A and B are the same type. */
export type Exact<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

/** Compiles only if its argument is `true`: `type _Check = Assert<Exact<z.infer<typeof s>, Wire>>`. */
export type Assert<T extends true> = T;

/**
 * Exact<A, B> for every field but `payload`, which both must have. Message schemas accept any
 * payload (`z.unknown()`, inferred as `unknown` or `{} | null`): a value that came out of
 * JSON.parse is a JsonValue by construction, so the wire type's `JsonValue` is not re-checked.
 */
export type ExactButPayload<A, B> =
  Exact<Omit<A, 'payload'>, Omit<B, 'payload'>> extends true
    ? 'payload' extends keyof A
      ? 'payload' extends keyof B
        ? true
        : false
      : false
    : false;
