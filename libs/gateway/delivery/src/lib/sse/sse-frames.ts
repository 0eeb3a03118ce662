/**
 * Server-sent events framing (WHATWG HTML "Server-sent events", the text/event-stream format) for
 * the gateway's SSE transport (docs/protocol.md "Server-sent events").
 *
 * A message is one event whose `id` is `<epoch>:<seq>`: EventSource echoes the last id it saw as
 * `Last-Event-ID` when it reconnects, so the id alone must say where to resume and in which
 * incarnation of the numbering (a seq of another epoch means nothing). The data is the Message's
 * JSON, which never contains a raw CR or LF (JSON.stringify escapes them), but every field is
 * still split on line breaks so no value can ever end a field or inject one.
 */
import type { Message } from '@seqcast/contracts';

export interface SseEvent {
  /** The `event:` field; absent means EventSource's default type `message`. */
  event?: string;
  /** The `id:` field: becomes the client's Last-Event-ID. */
  id?: string;
  /** The `retry:` field: the client's reconnection delay from now on, in ms. */
  retryMs?: number;
  /** The `data:` payload (one `data:` line per line of it). */
  data?: string;
}

const LINE_BREAK = /\r\n|\r|\n/;

/** A field value that may not span lines (event name, id): a line break in it is a bug upstream. */
function singleLine(field: string, value: string): string {
  if (LINE_BREAK.test(value) || value.includes('\0')) throw new Error(`SSE ${field} must be one line without NUL`);
  return value;
}

/** One event, terminated by the blank line that makes EventSource dispatch it. */
export function encodeSseEvent(event: SseEvent): string {
  let out = '';
  if (event.retryMs !== undefined) {
    if (!Number.isSafeInteger(event.retryMs) || event.retryMs < 0) throw new Error('SSE retry must be an integer >= 0');
    out += `retry: ${event.retryMs}\n`;
  }
  if (event.event !== undefined) out += `event: ${singleLine('event', event.event)}\n`;
  if (event.id !== undefined) out += `id: ${singleLine('id', event.id)}\n`;
  if (event.data !== undefined) for (const line of event.data.split(LINE_BREAK)) out += `data: ${line}\n`;
  return `${out}\n`;
}

/** A comment line: ignored by EventSource, it keeps proxies and the client's idle timers from closing the stream. */
export function encodeSseComment(text = ''): string {
  return text.split(LINE_BREAK).map((line) => `:${line === '' ? '' : ` ${line}`}\n`).join('') + '\n';
}

/** `<epoch>:<seq>`: the SSE event id of a message. */
export function sseEventId(epoch: string, seq: number): string {
  return `${epoch}:${seq}`;
}

/** Every message of a delivery as `message` events (EventSource's default type), each with its id. */
export function encodeSseMessages(messages: readonly Message[]): string {
  let out = '';
  for (const message of messages) {
    out += encodeSseEvent({ id: sseEventId(message.epoch, message.seq), data: JSON.stringify(message) });
  }
  return out;
}

export interface SseCursor {
  epoch: string;
  afterSeq: number;
}

const EVENT_ID = /^([^\s:]{1,128}):(-1|0|[1-9]\d{0,15})$/;

/**
 * Parses a Last-Event-ID (`<epoch>:<seq>`); undefined if it is not one of the ids this gateway
 * sends (epochs never contain a colon).
 */
export function parseSseEventId(value: string): SseCursor | undefined {
  const match = EVENT_ID.exec(value);
  if (!match) return undefined;
  const afterSeq = Number(match[2]);
  if (!Number.isSafeInteger(afterSeq)) return undefined;
  return { epoch: match[1], afterSeq };
}
