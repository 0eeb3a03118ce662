import { hasOnlyWellFormedStrings, isValidUtf8, jsonDepthExceeds, verifyJsonBody } from './json-body-guard';
import { RequestBodyError } from './request-body-error';

const bytes = (text: string) => Buffer.from(text, 'utf8');

describe('jsonDepthExceeds', () => {
  it('counts arrays and objects, not brackets inside strings', () => {
    expect(jsonDepthExceeds(bytes('{"a":[[1]]}'), 3)).toBe(false);
    expect(jsonDepthExceeds(bytes('{"a":[[[1]]]}'), 3)).toBe(true);
    expect(jsonDepthExceeds(bytes('{"a":"[[[[[[{{{{"}'), 1)).toBe(false);
    expect(jsonDepthExceeds(bytes('{"a":"\\"[[[["}'), 1)).toBe(false);
  });

  it('finds the 10,000 nested arrays that used to crash the handler', () => {
    expect(jsonDepthExceeds(bytes('['.repeat(10_000) + ']'.repeat(10_000)), 64)).toBe(true);
  });
});

describe('isValidUtf8', () => {
  it('accepts UTF-8 and refuses stray, overlong and surrogate sequences', () => {
    expect(isValidUtf8(bytes('{"t":"héllo ✓ 😀"}'))).toBe(true);
    expect(isValidUtf8(Buffer.from([0x22, 0xff, 0x22]))).toBe(false);
    expect(isValidUtf8(Buffer.from([0xc0, 0xaf]))).toBe(false);
    expect(isValidUtf8(Buffer.from([0xed, 0xa0, 0x80]))).toBe(false);
    // Truncated: a 3-byte sequence cut after two bytes, at the end and mid-body.
    expect(isValidUtf8(Buffer.from([0x22, 0xe2, 0x9c]))).toBe(false);
    expect(isValidUtf8(Buffer.from([0xe2, 0x9c, 0x22]))).toBe(false);
    expect(isValidUtf8(Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d]))).toBe(true);
  });
});

describe('hasOnlyWellFormedStrings', () => {
  it('refuses lone surrogates in values and keys, accepts pairs', () => {
    expect(hasOnlyWellFormedStrings(JSON.parse('{"a":["\\ud83d\\ude00"]}'))).toBe(true);
    expect(hasOnlyWellFormedStrings(JSON.parse('{"a":["\\ud800"]}'))).toBe(false);
    expect(hasOnlyWellFormedStrings(JSON.parse('{"\\udc00":1}'))).toBe(false);
    // A pair in the wrong order is two lone surrogates.
    expect(hasOnlyWellFormedStrings(JSON.parse('{"a":"x\\ude00\\ud83d"}'))).toBe(false);
  });
});

describe('verifyJsonBody', () => {
  const verify = verifyJsonBody(4);
  const typeOf = (run: () => void): string | undefined => {
    try {
      run();
      return undefined;
    } catch (error) {
      return (error as RequestBodyError).type;
    }
  };

  it('names the depth limit in its error', () => {
    expect(() => verify({}, {}, bytes('[[[[[1]]]]]'), 'utf-8')).toThrow(/limit of 4 levels/);
  });

  it('tells each refusal apart by type', () => {
    expect(typeOf(() => verify({}, {}, bytes('{"a":1}'), 'utf-8'))).toBeUndefined();
    expect(typeOf(() => verify({}, {}, bytes('{"a":1}'), 'utf-16le'))).toBe('charset.unsupported');
    expect(typeOf(() => verify({}, {}, Buffer.from([0x7b, 0xfe, 0x7d]), 'utf-8'))).toBe('entity.invalid.utf8');
    expect(typeOf(() => verify({}, {}, bytes('[[[[[]]]]]'), undefined))).toBe('entity.too.deep');
  });
});
