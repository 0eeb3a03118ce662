// Public API of @seqcast/api-docs: machine-readable documents (JSON Schema, OpenAPI) built from the contracts.
export {
  JSON_SCHEMA_DIALECT,
  type JsonSchema,
  schemaFileName,
  toJsonSchema,
  wireJsonSchemas,
} from './lib/json-schemas';
export { buildOpenApiDocument } from './lib/openapi';
export { WIRE_SCHEMAS, type WireSchema } from './lib/wire-schemas';
