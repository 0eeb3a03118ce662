import type { Message } from '@seqcast/contracts';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { encodeSseComment, encodeSseEvent, encodeSseMessages, parseSseEventId, sseEventId } from './sse-frames';

/** What a standard SSE parser (the one the `eventsource` client uses) makes of a stream. */
function parse(text: string): { events: EventSourceMessage[]; retries: number[]; comments: string[] } {
  const events: EventSourceMessage[] = [];
  const retries: number[] = [];
  const comments: string[] = [];
  const parser = createParser({
    onEvent: (event) => events.push(event),
    onRetry: (ms) => retries.push(ms),
    onComment: (comment) => comments.push(comment),
  });
  parser.feed(text);
  return { events, retries, comments };
}

function message(seq: number, prevSeq: number | null, payload: Message['payload']): Message {
  return {
    roomId: 'team-42:general',
    seq,
    prevSeq,
    epoch: 'e3f9a0c1b2d4e',
    clientMsgId: `c-${seq}`,
    senderId: 'user-17',
    payload,
    sentAt: '2026-11-28T08:15:30.123Z',
    sequencedAt: '2026-11-28T08:15:30.141Z',
  };
}

describe('SSE frames', () => {
  it('encodes a message as one event whose id is <epoch>:<seq> and whose data is the Message JSON', () => {
    const m = message(1187, 1180, { text: 'hello' });
    expect(encodeSseMessages([m])).toBe(`id: e3f9a0c1b2d4e:1187\ndata: ${JSON.stringify(m)}\n\n`);
    const { events } = parse(encodeSseMessages([m]));
    expect(events).toEqual([{ id: 'e3f9a0c1b2d4e:1187', event: undefined, data: JSON.stringify(m) }]);
  });

  it('keeps payload line breaks inside the JSON, so a message is always exactly one event', () => {
    const m = message(5, null, { text: 'line one\nline two\r\nid: forged\n\ndata: injected' });
    const { events } = parse(encodeSseMessages([m, message(9, 5, 'next')]));
    expect(events.map((e) => e.id)).toEqual(['e3f9a0c1b2d4e:5', 'e3f9a0c1b2d4e:9']);
    expect(JSON.parse(events[0].data)).toEqual(m);
  });

  it('splits multi-line data into data lines that the parser joins back', () => {
    const text = encodeSseEvent({ event: 'note', data: 'a\nb\r\nc' });
    expect(text).toBe('event: note\ndata: a\ndata: b\ndata: c\n\n');
    expect(parse(text).events).toEqual([{ id: undefined, event: 'note', data: 'a\nb\nc' }]);
  });

  it('puts retry before the event and rejects values that could break the framing', () => {
    const text = encodeSseEvent({ retryMs: 2000, event: 'subscribed', data: '{}' });
    expect(text).toBe('retry: 2000\nevent: subscribed\ndata: {}\n\n');
    expect(parse(text).retries).toEqual([2000]);
    expect(() => encodeSseEvent({ event: 'a\nb' })).toThrow(/one line/);
    expect(() => encodeSseEvent({ id: 'x\ry' })).toThrow(/one line/);
    expect(() => encodeSseEvent({ retryMs: -1 })).toThrow(/retry/);
  });

  it('encodes heartbeats as comments that dispatch no event', () => {
    expect(encodeSseComment('heartbeat')).toBe(': heartbeat\n\n');
    const { events, comments } = parse(encodeSseComment('heartbeat') + encodeSseComment());
    expect(events).toEqual([]);
    expect(comments).toEqual(['heartbeat', '']);
  });

  it('parses the ids it sends back into a cursor, and nothing else', () => {
    expect(parseSseEventId(sseEventId('e3f9a0c1b2d4e', 1187))).toEqual({ epoch: 'e3f9a0c1b2d4e', afterSeq: 1187 });
    expect(parseSseEventId('e1:-1')).toEqual({ epoch: 'e1', afterSeq: -1 });
    expect(parseSseEventId('e1:0')).toEqual({ epoch: 'e1', afterSeq: 0 });
    for (const bad of ['1187', 'e1:', ':5', 'e1:01', 'e1:-2', 'e1:1.5', 'a:b:5', 'e 1:5', 'e1:99999999999999999']) {
      expect(parseSseEventId(bad)).toBeUndefined();
    }
  });
});
