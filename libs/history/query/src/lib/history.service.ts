import { Inject, Injectable } from '@nestjs/common';
import { canAccessRoom, type Principal } from '@seqcast/auth';
import type { HistoryPage, HistoryQuery, Message } from '@seqcast/contracts';
import { ApiError } from '@seqcast/http-api';
import type { MessageHistory } from '@seqcast/persistence';
import { MESSAGE_HISTORY } from './history-query.options';

/**
 * Errors meaning "the database cannot answer right now" rather than "this query is wrong": network
 * failures, PostgreSQL refusing connections or shutting down (SQLSTATE classes 08 and 57P, 53300),
 * and the pool giving up on a connection.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 4; depth++) {
    if (typeof e !== 'object') return false;
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (typeof code === 'string') {
      if (NETWORK_ERRORS.has(code) || code.startsWith('08') || code.startsWith('57P') || code === '53300') return true;
    }
    if (typeof message === 'string' && UNAVAILABLE_MESSAGES.some((m) => message.includes(m))) return true;
    // TypeORM's QueryFailedError keeps pg's error as `driverError`; others use the standard `cause`.
    e = (e as { driverError?: unknown }).driverError ?? (e as { cause?: unknown }).cause;
  }
  return false;
}

const NETWORK_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EPIPE',
  'EAI_AGAIN',
]);
const UNAVAILABLE_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Connection is not established',
];

@Injectable()
export class HistoryService {
  constructor(@Inject(MESSAGE_HISTORY) private readonly history: MessageHistory) {}

  /**
   * One page of a room's history, in ascending seq whatever the direction. One row more than
   * `limit` is read so `hasMore` is exact without a second query.
   */
  async page(principal: Principal, roomId: string, query: HistoryQuery): Promise<HistoryPage> {
    if (!canAccessRoom(principal, 'history', roomId)) {
      throw ApiError.forbidden(`credential does not grant history of room "${roomId}"`);
    }
    try {
      const epoch = await this.history.currentEpoch();
      // Messages before headSeq, so headSeq is never below the last message returned.
      const read =
        query.direction === 'forward'
          ? await this.history.findAfter(roomId, query.afterSeq, query.limit + 1)
          : await this.history.findBefore(roomId, query.beforeSeq, query.limit + 1);
      const headSeq = await this.history.headSeq(roomId);
      return { roomId, epoch, headSeq, ...pageOf(query, read) };
    } catch (error) {
      if (isDatabaseUnavailable(error)) {
        throw ApiError.unavailable('message history is unavailable right now; retry later', error);
      }
      throw error;
    }
  }
}

/**
 * The page and its cursor from up to `limit + 1` ascending rows: the extra row (the newest for
 * forward reads, the oldest for backward ones) only says there is more, it is not returned.
 */
export function pageOf(
  query: HistoryQuery,
  rows: Message[],
): Pick<HistoryPage, 'messages' | 'hasMore' | 'nextAfterSeq' | 'nextBeforeSeq'> {
  const hasMore = rows.length > query.limit;
  if (query.direction === 'forward') {
    const messages = hasMore ? rows.slice(0, query.limit) : rows;
    return { messages, hasMore, nextAfterSeq: messages.at(-1)?.seq ?? query.afterSeq };
  }
  const messages = hasMore ? rows.slice(rows.length - query.limit) : rows;
  return hasMore ? { messages, hasMore, nextBeforeSeq: messages[0].seq } : { messages, hasMore };
}
