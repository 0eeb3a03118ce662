/**
 * The parts of Fastify's request and reply the ingest hooks use, typed structurally (Fastify's own
 * types satisfy them; specs pass plain objects).
 */
export interface IngestRequest {
  method?: string;
  url?: string;
  originalUrl?: string;
  headers: Record<string, string | string[] | undefined>;
  /** Set by the router once a route matched: its pattern, e.g. `/v1/rooms/:roomId/messages`. */
  routeOptions?: { url?: string };
  /** Set by the request-id hook before anything else runs. */
  requestId?: string;
  /** Set by BearerAuthGuard on authenticated requests. */
  principal?: { userId: string };
}

export interface IngestReply {
  header(name: string, value: string): unknown;
  code(statusCode: number): IngestReply;
  send(body?: unknown): unknown;
  /** Node's response underneath: the status sent and the end of the exchange. */
  raw: {
    statusCode: number;
    headersSent: boolean;
    once(event: 'finish' | 'close', listener: () => void): unknown;
  };
}

export type Next = (error?: Error) => void;
/** An `onRequest` hook: call `done()` to go on, `done(error)` for the error filter, or answer `reply` and not call it. */
export type RequestHook = (request: IngestRequest, reply: IngestReply, done: Next) => void;

/** The path without its query string: queries are never logged, whatever a client puts there. */
export function pathOf(request: IngestRequest): string {
  const url = request.originalUrl ?? request.url ?? '?';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/** Probe and scrape endpoints: never drained, never counted as work in flight, logged at verbose. */
export const OPERATIONAL_PATHS = new Set(['/healthz', '/readyz', '/metrics']);
