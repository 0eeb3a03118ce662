import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { batchPublishResultSchema, publishResultSchema } from './http-api';
import { payloadFingerprint } from './payload-fingerprint';

/** The first implementation, kept as the definition: JSON.stringify with a key-sorting replacer. */
function referenceFingerprint(payload: unknown): string {
  const sortKeys = (_key: string, value: unknown): unknown =>
    value === null || typeof value !== 'object' || Array.isArray(value)
      ? value
      : Object.fromEntries(
          Object.keys(value)
            .sort()
            .map((key) => [key, (value as Record<string, unknown>)[key]]),
        );
  const canonical = JSON.stringify(payload, sortKeys) ?? 'undefined';
  return createHash('sha256').update(canonical).digest().subarray(0, 16).toString('base64url');
}

describe('payloadFingerprint', () => {
  it('equals the reference definition for any JSON value, as parsed from a request or a record', () => {
    const key = fc.oneof(fc.string(), fc.constantFrom('__proto__', '0', '1', '10', '2', '-1', '01', 'a', 'B', 'é'));
    const json = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.constantFrom(null, true, false, 0, -0, 1.5, 1e21),
        fc.string(),
        fc.array(tie('value'), { maxLength: 4 }),
        fc.array(fc.tuple(key, tie('value')), { maxLength: 5 }).map((entries) => Object.fromEntries(entries)),
      ),
    })).value;
    fc.assert(
      fc.property(json, (value) => {
        const parsed: unknown = JSON.parse(JSON.stringify(value) ?? 'null');
        expect(payloadFingerprint(parsed)).toBe(referenceFingerprint(parsed));
        expect(payloadFingerprint(value)).toBe(referenceFingerprint(value));
      }),
      { numRuns: 2_000 },
    );
  });

  it('equals the reference definition past the copy depth, and for values that are not plain data', () => {
    let deep: unknown = { b: [1, { d: 1, c: 2 }], a: 2 };
    for (let i = 0; i < 200; i++) deep = i % 2 ? { z: deep, y: [i] } : [{ q: deep, p: i }];
    expect(payloadFingerprint(deep)).toBe(referenceFingerprint(deep));
    class Versioned {
      constructor(
        readonly b = 1,
        readonly a = 2,
      ) {}
      toJSON(): unknown {
        return { v: 2, a: this.a };
      }
    }
    const odd = [
      { b: new Date(0) },
      { a: Object.assign(Object.create(null) as object, { y: 1, x: 2 }) },
      { c: () => 1, b: 1 },
      { d: new Versioned() },
    ];
    for (const value of odd) expect(payloadFingerprint(value)).toBe(referenceFingerprint(value));
    expect(payloadFingerprint(JSON.parse('{"b":1,"__proto__":{"y":1,"x":2}}'))).toBe(
      referenceFingerprint(JSON.parse('{"__proto__":{"x":2,"y":1},"b":1}')),
    );
  });

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

  it('gives a payload already in key order (stringified as it is) the digest of its shuffled copies', () => {
    const sorted = { a: [{ m: 1, n: { p: true, q: [null, 'x', { c: 1, d: 2 }] } }], b: 's', é: 0 };
    const shuffled = JSON.parse('{"é":0,"b":"s","a":[{"n":{"q":[null,"x",{"d":2,"c":1}],"p":true},"m":1}]}');
    expect(payloadFingerprint(sorted)).toBe(payloadFingerprint(shuffled));
    expect(payloadFingerprint(sorted)).not.toBe(payloadFingerprint({ ...sorted, b: 't' }));
  });

  it('sorts the keys of objects that are not plain data, and of deeply nested ones', () => {
    class Point {
      constructor(
        readonly y: number,
        readonly x: number,
      ) {}
    }
    expect(payloadFingerprint(new Point(2, 1))).toBe(payloadFingerprint({ x: 1, y: 2 }));
    let deep: unknown = { b: 1, a: 2 };
    let deepSorted: unknown = { a: 2, b: 1 };
    for (let i = 0; i < 1_000; i++) {
      deep = { z: deep, y: [i] };
      deepSorted = { y: [i], z: deepSorted };
    }
    expect(payloadFingerprint(deep)).toBe(payloadFingerprint(deepSorted));
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
