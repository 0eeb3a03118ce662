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

  it('keeps the digests earlier versions stored (the worker compares against rows in PostgreSQL)', () => {
    // Pinned: a different digest for the same payload would make every retry of an older copy a conflict.
    expect(payloadFingerprint({ text: 'hi', meta: { b: 1, a: [{ y: 2, x: 1 }] } })).toBe('X0gjvnCd323mBaz1qw1mKQ');
    expect(payloadFingerprint(JSON.parse('{"10":1,"2":2,"b":3,"a":4}'))).toBe('dUO3ohPPKHx55ISeWjEauQ');
    expect(payloadFingerprint(undefined)).toBe('6wRdeNJzEHNIsDAMAdKbdQ');
  });

  it('gives an object in key order the digest of its shuffled copies (integer-like keys included)', () => {
    const sorted = JSON.parse('{"1":0,"2":0,"10":0,"a":{"x":[{"m":1,"n":2}],"y":null},"b":"s"}');
    const shuffled = JSON.parse('{"b":"s","a":{"y":null,"x":[{"n":2,"m":1}]},"10":0,"2":0,"1":0}');
    expect(payloadFingerprint(sorted)).toBe(payloadFingerprint(shuffled));
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
