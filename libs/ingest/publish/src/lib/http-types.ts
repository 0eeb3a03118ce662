/**
 * The parts of Express' request and response the ingest middleware use, typed structurally (the
 * workspace does not pull in @types/express for a handful of fields).
 */
export interface IngestRequest {
  method?: string;
  url?: string;
  originalUrl?: string;
  /** `originalUrl` without the query string. */
  path?: string;
  headers: Record<string, string | string[] | undefined>;
  /** Set by the router once a route matched: its pattern, e.g. `/v1/rooms/:roomId/messages`. */
  route?: { path?: unknown };
  /** Set by the request-id middleware before anything else runs. */
  requestId?: string;
  /** Set by BearerAuthGuard on authenticated requests. */
  principal?: { userId: string };
}

export interface IngestResponse {
  statusCode: number;
  headersSent: boolean;
  setHeader(name: string, value: string): unknown;
  status(code: number): IngestResponse;
  json(body: unknown): unknown;
  once(event: 'finish' | 'close', listener: () => void): unknown;
}

export type Next = (error?: unknown) => void;
export type Middleware = (request: IngestRequest, response: IngestResponse, next: Next) => void;

/** The path without its query string: queries are never logged, whatever a client puts there. */
export function pathOf(request: IngestRequest): string {
  const url = request.originalUrl ?? request.url ?? '?';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/** Probe and scrape endpoints: never drained, never counted as work in flight, logged at verbose. */
export const OPERATIONAL_PATHS = new Set(['/healthz', '/readyz', '/metrics']);
