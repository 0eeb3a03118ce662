import { randomUUID } from 'node:crypto';
import type { RequestHook } from './http-types';

export const REQUEST_ID_HEADER = 'X-Request-Id';

/**
 * A caller's id is kept only if it is short and made of characters that cannot forge or break a
 * log line (no spaces, quotes or control characters); otherwise the request gets a fresh UUID.
 */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:/+=-]{1,128}$/;

export function requestIdFrom(header: string | string[] | undefined): string {
  const candidate = Array.isArray(header) ? header[0] : header;
  return candidate !== undefined && SANE_REQUEST_ID.test(candidate) ? candidate : randomUUID();
}

/** First hook of the app: every later log line and the response carry the request id. */
export function requestIdHook(): RequestHook {
  return (request, reply, done) => {
    const id = requestIdFrom(request.headers['x-request-id']);
    request.requestId = id;
    reply.header(REQUEST_ID_HEADER, id);
    done();
  };
}
