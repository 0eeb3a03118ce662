import { z } from 'zod';
import { batchBodySchema, historyQuerySchema, publishBodySchema } from './http-api';
import { isValidRoomId } from './identifiers';
import { isoDateTimeSchema } from './message';
import { ackRequestSchema, subscribeRequestSchema } from './socket-api';
import { validate } from './validation';

describe('room ids', () => {
  it.each(['a', 'team-42:general', 'A.b_c-d:e', 'x'.repeat(128)])('accepts %s', (id) => {
    expect(isValidRoomId(id)).toBe(true);
  });
  it.each(['', 'x'.repeat(129), 'has space', 'slash/room', 'ünïcode', 42, null])('rejects %p', (id) => {
    expect(isValidRoomId(id)).toBe(false);
  });
});

describe('publish body', () => {
  it('accepts any JSON payload, including null', () => {
    expect(validate(publishBodySchema, { clientMsgId: 'm-1', payload: null }).ok).toBe(true);
    expect(validate(publishBodySchema, { clientMsgId: 'm-1', payload: { a: [1, 'b'] } }).ok).toBe(true);
  });
  it('names every bad field', () => {
    const result = validate(publishBodySchema, { clientMsgId: 'bad id!' });
    expect(result).toEqual({ ok: false, message: expect.stringContaining('clientMsgId') });
    expect(result.ok || result.message).toContain('payload: is required');
  });
  it('rejects unknown fields rather than silently dropping them', () => {
    expect(validate(publishBodySchema, { clientMsgId: 'a', payload: 1, extra: true }).ok).toBe(false);
  });
});

describe('batch body', () => {
  const item = { roomId: 'r', clientMsgId: 'c', payload: 1 };
  it('accepts 1..500 items', () => {
    expect(validate(batchBodySchema, { messages: [item] }).ok).toBe(true);
    expect(validate(batchBodySchema, { messages: Array(500).fill(item) }).ok).toBe(true);
  });
  it('rejects empty, oversized and partly invalid batches as a whole', () => {
    expect(validate(batchBodySchema, { messages: [] }).ok).toBe(false);
    expect(validate(batchBodySchema, { messages: Array(501).fill(item) }).ok).toBe(false);
    const bad = validate(batchBodySchema, { messages: [item, { ...item, roomId: 'no spaces' }] });
    expect(bad).toEqual({ ok: false, message: expect.stringContaining('messages.1.roomId') });
  });
});

describe('history query', () => {
  it('defaults to the whole history forward, 100 at a time', () => {
    expect(validate(historyQuerySchema, {})).toEqual({
      ok: true,
      value: { direction: 'forward', afterSeq: -1, limit: 100 },
    });
  });
  it('parses integers and enforces bounds', () => {
    expect(validate(historyQuerySchema, { afterSeq: '41', limit: '1000' })).toEqual({
      ok: true,
      value: { direction: 'forward', afterSeq: 41, limit: 1000 },
    });
    for (const bad of [
      { limit: '0' },
      { limit: '1001' },
      { afterSeq: '-2' },
      { afterSeq: '1.5' },
      { limit: 'x' },
      { beforeSeq: '-1' },
      { direction: 'up' },
    ]) {
      expect(validate(historyQuerySchema, bad).ok).toBe(false);
    }
  });
  it('reads backward from the latest, or from below beforeSeq (which alone means backward)', () => {
    expect(validate(historyQuerySchema, { direction: 'backward', limit: '50' })).toEqual({
      ok: true,
      value: { direction: 'backward', limit: 50 },
    });
    expect(validate(historyQuerySchema, { beforeSeq: '120' })).toEqual({
      ok: true,
      value: { direction: 'backward', beforeSeq: 120, limit: 100 },
    });
    expect(validate(historyQuerySchema, { direction: 'backward', beforeSeq: '0' })).toEqual({
      ok: true,
      value: { direction: 'backward', beforeSeq: 0, limit: 100 },
    });
  });
  it('rejects combinations that name two starting points, naming the parameter at fault', () => {
    expect(validate(historyQuerySchema, { afterSeq: '3', beforeSeq: '9' })).toEqual({
      ok: false,
      message: 'beforeSeq: beforeSeq cannot be combined with afterSeq',
    });
    expect(validate(historyQuerySchema, { direction: 'backward', afterSeq: '3' })).toEqual({
      ok: false,
      message: expect.stringMatching(/^afterSeq: afterSeq is forward only/),
    });
    expect(validate(historyQuerySchema, { direction: 'forward', beforeSeq: '9' })).toEqual({
      ok: false,
      message: expect.stringMatching(/^beforeSeq: beforeSeq is backward only/),
    });
    expect(validate(historyQuerySchema, { direction: 'sideways' })).toEqual({
      ok: false,
      message: "direction: direction must be 'forward' or 'backward'",
    });
  });
});

describe('socket requests', () => {
  it('validates subscribe and ack payloads', () => {
    expect(validate(subscribeRequestSchema, { roomId: 'r', afterSeq: 10, epoch: 'e1' }).ok).toBe(true);
    expect(validate(subscribeRequestSchema, { roomId: 'r', afterSeq: -2 }).ok).toBe(false);
    expect(validate(subscribeRequestSchema, 'r').ok).toBe(false);
    expect(validate(ackRequestSchema, { roomId: 'r', seq: 3 }).ok).toBe(true);
    expect(validate(ackRequestSchema, { roomId: 'r', seq: -1 }).ok).toBe(false);
  });

  it('refuses an epoch without a cursor instead of ignoring it', () => {
    expect(validate(subscribeRequestSchema, { roomId: 'r', epoch: 'e1' })).toEqual({
      ok: false,
      message: "epoch: epoch is only meaningful together with afterSeq (it names the cursor's numbering)",
    });
    expect(validate(subscribeRequestSchema, { roomId: 'r', last: 5, epoch: 'e1' }).ok).toBe(false);
  });
});

describe('isoDateTimeSchema', () => {
  it("accepts and refuses exactly what zod's own datetime({ offset: true }) does", () => {
    const zods = z.string().datetime({ offset: true });
    const samples = [
      '2026-12-06T08:41:09.031Z',
      '2026-12-06T08:41:09Z',
      '2026-12-06T08:41Z',
      '2026-12-06T08:41:09.031+01:00',
      '2026-12-06T08:41:09.031+0100',
      '2024-02-29T00:00:00Z',
      '2026-02-29T00:00:00Z',
      '2026-12-06 08:41:09Z',
      '2026-12-06T08:41:09.031',
      '2026-13-06T08:41:09Z',
      'yesterday',
      '',
    ];
    expect(samples.map((s) => isoDateTimeSchema.safeParse(s).success)).toEqual(
      samples.map((s) => zods.safeParse(s).success),
    );
  });
});
