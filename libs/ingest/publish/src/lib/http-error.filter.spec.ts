import { type ArgumentsHost, BadRequestException, HttpException, Logger, NotFoundException } from '@nestjs/common';
import { AuthError } from '@seqcast/auth';
import { KafkaUnavailableError } from '@seqcast/kafka';
import type { HttpAdapterHost } from '@nestjs/core';
import { ApiError } from '@seqcast/http-api';
import { type ErrorReplier, HttpErrorFilter } from './http-error.filter';
import { ingestMetrics } from './ingest.metrics';
import { RequestBodyError } from './request-body-error';

interface Captured {
  status?: number;
  headers: Record<string, string>;
  body?: unknown;
  ended: boolean;
}

function respond(exception: unknown, headersSent = false): Captured {
  const captured: Captured = { headers: {}, ended: false };
  const response = { the: 'platform response' };
  // The platform adapter as Nest hands it to the filter; each call checks it is given the response.
  const httpAdapter: ErrorReplier = {
    isHeadersSent: (r) => (expect(r).toBe(response), headersSent),
    setHeader: (r, name, value) => (expect(r).toBe(response), (captured.headers[name] = value)),
    reply: (r, body, status) => (expect(r).toBe(response), (captured.body = body), (captured.status = status)),
    end: (r) => (expect(r).toBe(response), (captured.ended = true)),
  };
  const request = { method: 'POST', originalUrl: '/v1/rooms/r/messages?x=1', requestId: 'req-7', headers: {} };
  const host = { switchToHttp: () => ({ getResponse: () => response, getRequest: () => request }) };
  new HttpErrorFilter({ httpAdapter } as unknown as HttpAdapterHost).catch(exception, host as unknown as ArgumentsHost);
  return captured;
}

describe('HttpErrorFilter', () => {
  let logError: jest.SpyInstance;
  let logWarn: jest.SpyInstance;
  beforeEach(() => {
    logError = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    logWarn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  it('sends ApiErrors as they are', () => {
    const res = respond(ApiError.invalidRequest('clientMsgId: is required'));
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: { code: 'invalid_request', message: 'clientMsgId: is required' } });
    expect(res.headers).toEqual({});
    expect(respond(ApiError.forbidden('no access to room "x"'))).toMatchObject({
      status: 403,
      body: { error: { code: 'forbidden', message: 'no access to room "x"' } },
    });
  });

  it('maps AuthError to 401 with its (token-free) message', () => {
    expect(respond(new AuthError('token expired'))).toMatchObject({
      status: 401,
      body: { error: { code: 'unauthorized', message: 'token expired' } },
    });
  });

  it('maps KafkaUnavailableError to 503 with Retry-After and logs the cause server-side only', () => {
    const res = respond(new KafkaUnavailableError('broker 127.0.0.1:9092 refused connection'));
    expect(res.status).toBe(503);
    expect(res.headers['Retry-After']).toMatch(/^\d+$/);
    expect(res.body).toEqual({ error: { code: 'unavailable', message: expect.any(String) } });
    expect(JSON.stringify(res.body)).not.toContain('127.0.0.1');
    expect(logWarn).toHaveBeenCalledWith({
      event: 'http_error',
      requestId: 'req-7',
      method: 'POST',
      path: '/v1/rooms/r/messages',
      status: 503,
      code: 'unavailable',
      detail: expect.stringContaining('refused connection'),
    });
  });

  it('sends Retry-After for 503 ApiErrors and logs their cause', () => {
    const res = respond(ApiError.unavailable('history unavailable', new Error('ECONNREFUSED 127.0.0.1:5432')));
    expect(res).toMatchObject({ status: 503, headers: { 'Retry-After': '5' } });
    expect(res.body).toEqual({ error: { code: 'unavailable', message: 'history unavailable' } });
    expect(logWarn).toHaveBeenCalledWith(expect.objectContaining({ detail: expect.stringContaining('ECONNREFUSED') }));
  });

  it('maps body-parser errors by type, wrapped or raw', () => {
    const tooLarge = Object.assign(new Error('request entity too large'), {
      type: 'entity.too.large',
      status: 413,
      statusCode: 413,
      limit: 65536,
    });
    for (const error of [tooLarge, RequestBodyError.from(tooLarge)]) {
      expect(respond(error)).toMatchObject({
        status: 413,
        body: { error: { code: 'payload_too_large', message: 'request body exceeds the limit of 65536 bytes' } },
      });
    }
    const badJson = Object.assign(new SyntaxError('Unexpected token } in JSON at position 9'), {
      type: 'entity.parse.failed',
      status: 400,
    });
    expect(respond(RequestBodyError.from(badJson))).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_request', message: expect.stringMatching(/^request body is not valid JSON/) } },
    });
    const badCharset = Object.assign(new Error('unsupported charset "LATIN-9"'), {
      type: 'charset.unsupported',
      status: 415,
    });
    expect(respond(badCharset)).toMatchObject({ status: 415, body: { error: { code: 'unsupported_media_type' } } });
    const notGzip = new RequestBodyError(
      'encoding.invalid',
      400,
      'request body could not be decoded as its Content-Encoding says: incorrect header check',
    );
    expect(respond(notGzip)).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_request', message: expect.stringContaining('incorrect header check') } },
    });
  });

  it("replaces Nest's own exception bodies with the envelope", () => {
    expect(respond(new NotFoundException('Cannot GET /nope'))).toEqual({
      status: 404,
      headers: {},
      body: { error: { code: 'not_found', message: 'Cannot GET /nope' } },
      ended: false,
    });
    expect(respond(new BadRequestException("Failed to decode param '%FF'"))).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_request', message: "Failed to decode param '%FF'" } },
    });
    expect(respond(new HttpException('down', 503))).toMatchObject({ status: 503, headers: { 'Retry-After': '5' } });
  });

  it("maps Fastify's own client errors into the envelope", () => {
    const fastifyError = (message: string, code: string, statusCode: number) =>
      Object.assign(new Error(message), { code, statusCode });
    // A Content-Type header Fastify cannot parse: answered as a body that is not JSON (400, not 415).
    expect(respond(fastifyError('Unsupported Media Type', 'FST_ERR_CTP_INVALID_MEDIA_TYPE', 415))).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_request', message: expect.stringContaining('Content-Type: application/json') } },
    });
    expect(respond(fastifyError("'/%ff' is not a valid url component", 'FST_ERR_BAD_URL', 400))).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_request', message: "'/%ff' is not a valid url component" } },
    });
    expect(respond(fastifyError('boom', 'FST_ERR_SOMETHING', 500))).toMatchObject({
      status: 500,
      body: { error: { code: 'internal', message: 'internal server error' } },
    });
    // An error that merely has a `code` is not Fastify's: a bug, 500.
    expect(respond(Object.assign(new Error('x'), { code: 'ECONNRESET', statusCode: 400 }))).toMatchObject({ status: 500 });
  });

  it('answers unknown errors with a bare 500 and logs the stack', () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'secret')");
    const res = respond(bug);
    expect(res).toMatchObject({ status: 500, body: { error: { code: 'internal', message: 'internal server error' } } });
    expect(JSON.stringify(res.body)).not.toContain('secret');
    expect(logError).toHaveBeenCalledWith(
      expect.objectContaining({ requestId: 'req-7', detail: expect.stringContaining(bug.stack ?? 'missing stack') }),
    );
    expect(respond('a thrown string')).toMatchObject({ status: 500, body: { error: { code: 'internal' } } });
  });

  it('counts every rejection by its code', async () => {
    const count = async (code: string) =>
      (await ingestMetrics.rejectedRequests.get()).values.find((v) => v.labels.code === code)?.value ?? 0;
    const before = { forbidden: await count('forbidden'), unauthorized: await count('unauthorized') };
    respond(ApiError.forbidden('no'));
    respond(ApiError.forbidden('no'));
    respond(new AuthError('token expired'));
    expect(await count('forbidden')).toBe(before.forbidden + 2);
    expect(await count('unauthorized')).toBe(before.unauthorized + 1);
  });

  it('only ends the response when headers are already out', () => {
    const res = respond(new Error('late failure'), true);
    expect(res).toEqual({ headers: {}, ended: true });
  });
});
