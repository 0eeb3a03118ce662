import { batchPublishResultSchema, publishResultSchema } from './http-api';
import { payloadFingerprint } from './payload-fingerprint';

describe('payloadFingerprint', () => {
  it('ignores object key order at every depth, as jsonb does', () => {
    const a = { text: 'hi', meta: { b: 1, a: [{ y: 2, x: 1 }] } };
    const b = JSON.parse('{"meta":{"a":[{"x":1,"y":2}],"b":1},"text":"hi"}');
    expect(payloadFingerprint(a)).toBe(payloadFingerprint(b));
  });

  it('tells different payloads apart, including array order, types and null', () => {
    const values = [null, 0, '0', false, [], {}, [1, 2], [2, 1], { a: 1 }, { a: '1' }, { a: null }, 'x'];
    const prints = values.map(payloadFingerprint);
    expect(new Set(prints).size).toBe(values.length);
    for (const print of prints) expect(print).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('is the same for the request body and the record read back from Kafka', () => {
    const body = JSON.parse('{"__proto__":{"x":1},"n":1e400,"z":-0,"k":"\\u00e9"}');
    const record = JSON.parse(JSON.stringify({ v: 1, payload: body })).payload;
    expect(payloadFingerprint(record)).toBe(payloadFingerprint(body));
  });
});

describe('publish result schemas', () => {
  const fresh = { roomId: 'r', clientMsgId: 'c-1', partition: 3, offset: 40, duplicate: false };
  it('accept a fresh copy and a duplicate with or without seq', () => {
    expect(publishResultSchema.safeParse(fresh).success).toBe(true);
    expect(publishResultSchema.safeParse({ ...fresh, duplicate: true }).success).toBe(true);
    expect(publishResultSchema.safeParse({ ...fresh, duplicate: true, seq: 40 }).success).toBe(true);
    expect(batchPublishResultSchema.safeParse({ results: [fresh] }).success).toBe(true);
  });
  it('reject seq on a fresh copy, a missing duplicate flag and unknown fields', () => {
    expect(publishResultSchema.safeParse({ ...fresh, seq: 40 }).success).toBe(false);
    const { duplicate: _omitted, ...withoutFlag } = fresh;
    expect(publishResultSchema.safeParse(withoutFlag).success).toBe(false);
    expect(publishResultSchema.safeParse({ ...fresh, extra: 1 }).success).toBe(false);
  });
});
