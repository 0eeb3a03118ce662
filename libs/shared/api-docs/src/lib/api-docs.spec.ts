import { schemaFileName, wireJsonSchemas } from './json-schemas';
import { buildOpenApiDocument } from './openapi';

describe('wire JSON Schemas', () => {
  const schemas = wireJsonSchemas();

  it('names files in kebab case', () => {
    expect(schemaFileName('PublishRequest')).toBe('publish-request.json');
    expect(schemaFileName('ErrorEnvelope')).toBe('error-envelope.json');
  });

  it('rejects unknown fields exactly where the server does', () => {
    expect(schemas.get('PublishRequest')).toMatchObject({
      additionalProperties: false,
      required: ['clientMsgId', 'payload'],
    });
    expect(schemas.get('SubscribeRequest')).toMatchObject({ additionalProperties: false, required: ['roomId'] });
    // The history query strips unknown parameters instead of answering 400.
    expect(schemas.get('HistoryQuery')).toMatchObject({ additionalProperties: true });
  });

  it('documents the history query as the strings the server parses', () => {
    expect(schemas.get('HistoryQuery')).toMatchObject({
      properties: {
        direction: { type: 'string', enum: ['forward', 'backward'] },
        afterSeq: { type: 'string' },
        beforeSeq: { type: 'string' },
        limit: { type: 'string', default: '100' },
      },
    });
  });

  it('lists every error code', () => {
    const envelope = schemas.get('ErrorEnvelope') as {
      properties: { error: { properties: { code: { enum: string[] } } } };
    };
    expect(envelope.properties.error.properties.code.enum).toEqual(
      expect.arrayContaining(['invalid_request', 'internal']),
    );
  });
});

describe('OpenAPI document', () => {
  const document = buildOpenApiDocument() as { components: Record<string, Record<string, unknown>> };

  it('only references components it defines', () => {
    const refs = [...JSON.stringify(document).matchAll(/"\$ref":"#\/components\/(\w+)\/([\w-]+)"/g)];
    expect(refs.length).toBeGreaterThan(0);
    for (const [, kind, name] of refs) expect(document.components[kind]).toHaveProperty([name]);
  });

  it('carries no JSON Schema dialect inside components (OpenAPI 3.1 sets its own)', () => {
    expect(JSON.stringify(document.components['schemas'])).not.toContain('$schema');
  });
});
