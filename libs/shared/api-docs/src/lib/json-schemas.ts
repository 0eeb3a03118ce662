import { isoDateTimeSchema } from '@seqcast/contracts';
import { ignoreOverride, zodToJsonSchema } from 'zod-to-json-schema';
import { WIRE_SCHEMAS, type WireSchema } from './wire-schemas';

export type JsonSchema = Record<string, unknown>;

export const JSON_SCHEMA_DIALECT = 'http://json-schema.org/draft-07/schema#';

/**
 * The JSON Schema of one wire type, self-contained (no $ref: a client author can feed one file to
 * a validator). Requests document their *input*: the history query is strings, as on the wire.
 */
export function toJsonSchema(wire: WireSchema): JsonSchema {
  const body = zodToJsonSchema(wire.schema, {
    target: 'jsonSchema7',
    $refStrategy: 'none',
    pipeStrategy: 'input',
    effectStrategy: 'input',
    // Only `.strict()` objects reject unknown keys; the others (history query, handshake auth) strip
    // them, and the schema must say so rather than promise an error the server never gives.
    removeAdditionalStrategy: 'strict',
    // The precompiled date-time check is a regex to zod; documents keep saying what it is.
    override: (def) => (def === isoDateTimeSchema._def ? { type: 'string', format: 'date-time' } : ignoreOverride),
  }) as JsonSchema;
  const { $schema: _dialect, ...rest } = body;
  return { $schema: JSON_SCHEMA_DIALECT, title: wire.title, description: wire.description, ...rest };
}

/** name -> JSON Schema for every wire type, in WIRE_SCHEMAS order. */
export function wireJsonSchemas(): Map<string, JsonSchema> {
  return new Map(WIRE_SCHEMAS.map((wire) => [wire.name, toJsonSchema(wire)]));
}

/** File name under docs/schemas/: `PublishRequest` -> `publish-request.json`. */
export function schemaFileName(name: string): string {
  return `${name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase()}.json`;
}
