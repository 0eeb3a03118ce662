/**
 * `GET /v1/rooms/:roomId/events`: a room's messages as server-sent events, on the gateway's own
 * HTTP server beside Socket.IO (docs/protocol.md "Server-sent events"). The same checks as a
 * socket handshake plus subscribe, in the same order (drain refusal, token, `subscribe` grant,
 * token deadline, connection limits), then the very subscribe path a socket uses: room cache or
 * PostgreSQL history after the cursor, then live, with no gap or duplicate at the seam.
 *
 * Permanent refusals are HTTP errors with the API's error body (EventSource then stops for good,
 * which is right: retrying a forbidden room cannot help). Temporary ones (draining, history
 * unavailable) are a 200 stream that ends at once with `retry:`, because EventSource reconnects
 * only after a 200.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Controller, Get, Inject, Logger, Options, Optional, Param, Req, Res } from '@nestjs/common';
import { canAccessRoom, type Principal, type TokenVerifier } from '@seqcast/auth';
import { isOriginAllowed } from '@seqcast/config';
import { ErrorCode, errorEnvelope, TOO_MANY_CONNECTIONS_CONNECT_ERROR } from '@seqcast/contracts';
import { ConnectionLimits } from '../connection-limits';
import { TOKEN_VERIFIER } from '../delivery.tokens';
import { DrainService } from '../drain.service';
import { GATEWAY_LIMITS, type GatewayLimitOptions, NO_LIMITS } from '../gateway-limits';
import { limitRejections } from '../limits.metrics';
import { SubscriptionService } from '../subscription.service';
import { isSseRequestError, parseSseRequest, SSE_TOKEN_PARAM } from './sse-request';
import { SseStream, type SseStreamOptions } from './sse-stream';
import { SseStreams } from './sse-streams.service';
import { type SseRefusal, sseMetrics } from './sse.metrics';

export interface SseOptions extends SseStreamOptions {
  /** SEQCAST_ALLOWED_ORIGINS as resolved (the list Socket.IO uses); `['*']` allows any origin. */
  allowedOrigins: readonly string[];
}

export const SSE_OPTIONS = Symbol('SSE_OPTIONS');

export const SSE_PATH = 'v1/rooms/:roomId/events';
/** Retry-After on a 429 for too many streams: long enough not to hammer, short enough to recover. */
const TOO_MANY_RETRY_AFTER_S = 5;

@Controller()
export class SseController {
  private readonly logger = new Logger(SseController.name);
  private readonly limits: ConnectionLimits;

  constructor(
    @Inject(TOKEN_VERIFIER) private readonly verifier: TokenVerifier,
    private readonly subscriptions: SubscriptionService,
    private readonly drain: DrainService,
    private readonly streams: SseStreams,
    @Inject(SSE_OPTIONS) private readonly options: SseOptions,
    @Optional() @Inject(GATEWAY_LIMITS) limits: GatewayLimitOptions = NO_LIMITS,
  ) {
    // The socket limits, counted for SSE streams on their own (a stream is a connection too).
    this.limits = new ConnectionLimits(limits.connections);
  }

  /** CORS preflight: a page sending `Authorization` with fetch-based SSE asks first. */
  @Options(SSE_PATH)
  preflight(@Req() request: IncomingMessage, @Res() response: ServerResponse): void {
    const origin = originOf(request);
    if (!isOriginAllowed(origin, this.options.allowedOrigins)) return this.originRefused(response, origin);
    response.writeHead(204, {
      ...this.corsHeaders(origin),
      'Access-Control-Allow-Methods': 'GET',
      'Access-Control-Allow-Headers': 'Authorization, Last-Event-ID, Cache-Control',
      'Access-Control-Max-Age': '600',
    });
    response.end();
  }

  @Get(SSE_PATH)
  async open(
    @Req() request: IncomingMessage,
    @Res() response: ServerResponse,
    @Param('roomId') roomId: string,
  ): Promise<void> {
    const origin = originOf(request);
    if (!isOriginAllowed(origin, this.options.allowedOrigins)) return this.originRefused(response, origin);
    const cors = this.corsHeaders(origin);

    const url = request.url ?? '';
    const queryStart = url.indexOf('?');
    const parsed = parseSseRequest({
      roomId,
      query: queryStart < 0 ? '' : url.slice(queryStart + 1),
      authorization: header(request, 'authorization'),
      lastEventId: header(request, 'last-event-id'),
    });
    if (isSseRequestError(parsed)) {
      return this.refuse(response, cors, parsed.status, parsed.code, parsed.message, parsed.code as SseRefusal);
    }

    const hooks = {
      ack: (seq: number) => void this.subscriptions.ack(stream.id, parsed.roomId, seq),
      closed: (closed: SseStream) => {
        this.subscriptions.disconnect(closed.id);
        this.streams.remove(closed);
      },
    };
    const stream: SseStream = new SseStream(response, parsed.roomId, this.options, hooks);
    if (this.isDraining()) {
      return stream.refuseRetryable('server_draining', 'this instance is shutting down; reconnect', cors);
    }

    let principal: Principal;
    try {
      principal = await this.verifier.verify(parsed.token);
    } catch (error) {
      const message = parsed.token
        ? error instanceof Error
          ? error.message
          : 'invalid token'
        : `missing token: send Authorization: Bearer <token> (or ?${SSE_TOKEN_PARAM}=)`;
      return this.refuse(response, { ...cors, 'WWW-Authenticate': 'Bearer' }, 401, ErrorCode.Unauthorized, message, 'unauthorized');
    }
    if (!canAccessRoom(principal, 'subscribe', parsed.roomId)) {
      const message = `token does not grant subscribe to room ${parsed.roomId}`;
      return this.refuse(response, cors, 403, ErrorCode.Forbidden, message, 'forbidden');
    }
    // The verifier allows clock leeway; a stream's deadline is exp itself, as a socket's.
    if (principal.expiresAt && principal.expiresAt.getTime() <= Date.now()) {
      return this.refuse(response, { ...cors, 'WWW-Authenticate': 'Bearer' }, 401, ErrorCode.Unauthorized, 'token expired', 'unauthorized');
    }
    if (!this.reserveConnection(request, response, principal)) {
      return this.refuse(
        response,
        { ...cors, 'Retry-After': String(TOO_MANY_RETRY_AFTER_S) },
        429,
        ErrorCode.RateLimited,
        `${TOO_MANY_CONNECTIONS_CONNECT_ERROR}: close streams or sockets you no longer need`,
        'too_many_connections',
      );
    }
    if (response.destroyed) return;

    this.streams.add(stream);
    sseMetrics.streamsOpened.inc({ token_source: parsed.tokenSource, resume: parsed.resumedFrom ?? 'none' });
    this.subscriptions.connect(stream);
    const subscribeRequest = {
      roomId: parsed.roomId,
      ...(parsed.afterSeq === undefined ? {} : { afterSeq: parsed.afterSeq }),
      ...(parsed.epoch === undefined ? {} : { epoch: parsed.epoch }),
      ...(parsed.last === undefined ? {} : { last: parsed.last }),
    };
    try {
      await this.subscriptions.subscribe(stream, subscribeRequest, (ack) => {
        if (!ack.ok) {
          stream.refuseRetryable('unavailable', ack.error.message, cors);
        } else if (this.isDraining()) {
          stream.refuseRetryable('server_draining', 'this instance is shutting down; reconnect', cors);
        } else {
          stream.open(ack, cors, principal.expiresAt);
        }
      });
    } catch (error) {
      this.logger.error(`SSE subscribe ${parsed.roomId} failed: ${error instanceof Error ? error.stack : String(error)}`);
      if (!response.headersSent) {
        this.refuse(response, cors, 500, ErrorCode.Internal, 'subscribe failed', undefined);
      } else {
        stream.end('unavailable');
      }
    }
    // The client may have gone while history was read: nothing of it may stay registered.
    if (response.destroyed) this.subscriptions.disconnect(stream.id);
  }

  private isDraining(): boolean {
    return this.drain.draining || this.streams.draining;
  }

  /** The socket connection limits applied to this stream; released when the response closes. */
  private reserveConnection(request: IncomingMessage, response: ServerResponse, principal: Principal): boolean {
    let allowed = false;
    this.limits.middleware((reason) => this.logger.warn(`SSE stream refused: ${reason}`))(
      {
        handshake: { address: request.socket.remoteAddress ?? '-', headers: request.headers },
        data: { principal },
        conn: { on: (_event, listener) => response.once('close', listener) },
      },
      (error) => (allowed = error === undefined),
    );
    return allowed;
  }

  private corsHeaders(origin: string | undefined): Record<string, string> {
    if (origin === undefined || origin === '') return {};
    return { 'Access-Control-Allow-Origin': origin, Vary: 'Origin' };
  }

  private originRefused(response: ServerResponse, origin: string | undefined): void {
    limitRejections.inc({ limit: 'origin' });
    sseMetrics.refusals.inc({ reason: 'forbidden' });
    writeJson(response, 403, {}, errorEnvelope(ErrorCode.Forbidden, `origin ${origin} is not allowed`));
  }

  private refuse(
    response: ServerResponse,
    headers: Record<string, string>,
    status: number,
    code: ErrorCode,
    message: string,
    metric: SseRefusal | undefined,
  ): void {
    if (metric) sseMetrics.refusals.inc({ reason: metric });
    writeJson(response, status, headers, errorEnvelope(code, message));
  }
}

function originOf(request: IncomingMessage): string | undefined {
  return header(request, 'origin');
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function writeJson(response: ServerResponse, status: number, headers: Record<string, string>, body: unknown): void {
  if (response.headersSent || response.destroyed) return;
  const text = JSON.stringify(body);
  response.writeHead(status, {
    ...headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(text)),
    'Cache-Control': 'no-store',
  });
  response.end(text);
}
