import { Controller, Get } from '@nestjs/common';
import { buildOpenApiDocument } from '@seqcast/api-docs';

/**
 * GET /openapi.json, unauthenticated like the probes: a client generator must be able to fetch it
 * before it holds a token. Built once from the same contracts the routes validate with, rather
 * than read from docs/openapi.json, so the served document is that of the running code even in the
 * image (which ships no docs/); the contracts-docs test keeps the committed copy identical.
 */
@Controller()
export class OpenApiController {
  private readonly document = buildOpenApiDocument();

  @Get('openapi.json')
  openApi(): Record<string, unknown> {
    return this.document;
  }
}
