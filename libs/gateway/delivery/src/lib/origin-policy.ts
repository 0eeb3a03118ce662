/**
 * SEQCAST_ALLOWED_ORIGINS for Socket.IO, both transports: engine.io's `allowRequest` runs for the
 * polling handshake and for the WebSocket upgrade alike, so a page from another origin gets
 * HTTP 403 either way (browsers do not apply CORS to WebSockets: without this check any page could
 * open a socket with a token it holds). Requests without an Origin (servers, native apps) pass.
 */
import type { IncomingMessage } from 'node:http';
import { ANY_ORIGIN, isOriginAllowed } from '@seqcast/config';
import { limitRejections } from './limits.metrics';

/** engine.io's error text for the refused handshake (body `{"code":4,"message":"origin not allowed"}`). */
export const ORIGIN_NOT_ALLOWED = 'origin not allowed';

export function allowRequestFor(
  allowed: readonly string[],
): (request: IncomingMessage, callback: (error: string | null | undefined, success: boolean) => void) => void {
  return (request, callback) => {
    if (isOriginAllowed(request.headers.origin, allowed)) return callback(null, true);
    limitRejections.inc({ limit: 'origin' });
    callback(ORIGIN_NOT_ALLOWED, false);
  };
}

/** CORS headers for the polling transport, same list. */
export function corsFor(allowed: readonly string[]): { origin: string | string[]; credentials: false } {
  return { origin: allowed.includes(ANY_ORIGIN) ? '*' : [...allowed], credentials: false };
}
