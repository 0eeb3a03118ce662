/**
 * What an SSE request asks for, validated before anything is opened: the room, the token (header
 * or query parameter), and where to resume (`Last-Event-ID`, else `?afterSeq=&epoch=`, else `?last=`). Pure, so
 * every rule is unit-tested; the controller only maps the outcome onto HTTP.
 */
import { bearerToken } from '@seqcast/auth';
import { ErrorCode, isValidRoomId, SUBSCRIBE_LAST_MAX } from '@seqcast/contracts';
import { parseSseEventId } from './sse-frames';

/**
 * The query parameter carrying the token for clients that cannot set headers (the browser's
 * EventSource). Named as in RFC 6750 §2.3; see docs/protocol.md for why it is a last resort.
 */
export const SSE_TOKEN_PARAM = 'access_token';
const KNOWN_PARAMS = new Set([SSE_TOKEN_PARAM, 'afterSeq', 'epoch', 'last']);
const SEQ = /^(-1|0|[1-9]\d{0,15})$/;
const COUNT = /^[1-9]\d{0,3}$/;
const MAX_TOKEN_CHARS = 16_384;
const MAX_EPOCH_CHARS = 128;

export interface SseRequest {
  roomId: string;
  token: string | undefined;
  /** Where the token came from (for the metric that shows how many clients still use the query). */
  tokenSource: 'header' | 'query' | 'none';
  /** Resume point: absent, the stream starts at the room's live head like a subscribe without afterSeq. */
  afterSeq?: number;
  epoch?: string;
  resumedFrom?: 'last-event-id' | 'query';
  /** `?last=N` on a stream without a cursor: the latest N stored messages first, as subscribe's `last`. */
  last?: number;
}

export interface SseRequestError {
  status: 400 | 401;
  code: ErrorCode;
  message: string;
}

export interface RawSseRequest {
  roomId: string;
  /** The URL's query string, without `?`. */
  query: string;
  authorization?: string;
  lastEventId?: string;
}

export function parseSseRequest(raw: RawSseRequest): SseRequest | SseRequestError {
  const problems: string[] = [];
  if (!isValidRoomId(raw.roomId)) problems.push('roomId: must be 1-128 characters of [A-Za-z0-9._:-]');

  const params = new URLSearchParams(raw.query);
  const seen = new Set<string>();
  for (const key of params.keys()) {
    if (!KNOWN_PARAMS.has(key)) problems.push(`${key}: unknown parameter (allowed: afterSeq, epoch, last, ${SSE_TOKEN_PARAM})`);
    else if (seen.has(key)) problems.push(`${key}: given more than once`);
    seen.add(key);
  }
  const afterSeqParam = params.get('afterSeq');
  const epochParam = params.get('epoch');
  const queryToken = params.get(SSE_TOKEN_PARAM);
  const lastParam = params.get('last');
  if (afterSeqParam !== null && (!SEQ.test(afterSeqParam) || !Number.isSafeInteger(Number(afterSeqParam)))) {
    problems.push('afterSeq: must be an integer >= -1');
  }
  if (epochParam !== null && (epochParam.length === 0 || epochParam.length > MAX_EPOCH_CHARS)) {
    problems.push(`epoch: must be 1-${MAX_EPOCH_CHARS} characters`);
  }
  // An epoch is only meaningful as part of a cursor; alone it would be ignored, so refuse it.
  if (epochParam !== null && afterSeqParam === null) problems.push('epoch: only allowed together with afterSeq');
  if (lastParam !== null && (!COUNT.test(lastParam) || Number(lastParam) > SUBSCRIBE_LAST_MAX)) {
    problems.push(`last: must be an integer 1-${SUBSCRIBE_LAST_MAX}`);
  }
  if (lastParam !== null && afterSeqParam !== null) problems.push('last: cannot be combined with afterSeq');
  if (queryToken !== null && (queryToken.length === 0 || queryToken.length > MAX_TOKEN_CHARS)) {
    problems.push(`${SSE_TOKEN_PARAM}: must be 1-${MAX_TOKEN_CHARS} characters`);
  }

  // EventSource sends the id of the last event it received; only ids this gateway sends are valid.
  const lastEventId = raw.lastEventId?.trim() ?? '';
  const cursor = lastEventId === '' ? undefined : parseSseEventId(lastEventId);
  if (lastEventId !== '' && !cursor) problems.push('Last-Event-ID: must be <epoch>:<seq> as sent in an event id');
  if (problems.length > 0) return { status: 400, code: ErrorCode.InvalidRequest, message: problems.join('; ') };

  // Both is ambiguous: whose rights would apply? Refuse as ingest-api does for two credentials.
  if (raw.authorization !== undefined && queryToken !== null) {
    return {
      status: 401,
      code: ErrorCode.Unauthorized,
      message: `send the token either in Authorization or in ${SSE_TOKEN_PARAM}, not both`,
    };
  }
  const headerToken = raw.authorization === undefined ? undefined : bearerToken(raw.authorization);
  if (raw.authorization !== undefined && headerToken === undefined) {
    return { status: 401, code: ErrorCode.Unauthorized, message: 'Authorization must be `Bearer <token>`' };
  }
  const token = headerToken ?? queryToken ?? undefined;
  const request: SseRequest = {
    roomId: raw.roomId,
    token,
    tokenSource: headerToken ? 'header' : queryToken ? 'query' : 'none',
  };
  // Last-Event-ID wins: EventSource reconnects to the same URL, so a query cursor is where the
  // stream first started, and the header is how far it has got since.
  if (cursor) {
    request.afterSeq = cursor.afterSeq;
    request.epoch = cursor.epoch;
    request.resumedFrom = 'last-event-id';
  } else if (afterSeqParam !== null) {
    request.afterSeq = Number(afterSeqParam);
    if (epochParam !== null) request.epoch = epochParam;
    request.resumedFrom = 'query';
  } else if (lastParam !== null) {
    // Only without a cursor: EventSource repeats the URL on every reconnect, and its Last-Event-ID
    // (above) must then resume exactly rather than ask for the latest N again.
    request.last = Number(lastParam);
  }
  return request;
}

export function isSseRequestError(value: SseRequest | SseRequestError): value is SseRequestError {
  return 'status' in value;
}
