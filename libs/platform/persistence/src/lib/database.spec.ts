import { bigintToNumber } from './bigint.transformer';
import { newEpoch, pgSslOptions, redactUrl } from './database';
import { toMessage } from './message.mapping';

describe('newEpoch', () => {
  it('is e + 12 hex chars and differs between calls', () => {
    const a = newEpoch();
    expect(a).toMatch(/^e[0-9a-f]{12}$/);
    expect(newEpoch()).not.toBe(a);
  });
});

describe('redactUrl', () => {
  it('hides the password but keeps where it points', () => {
    expect(redactUrl('postgres://app:s3cret@db:5432/seqcast')).toBe('postgres://app:***@db:5432/seqcast');
    expect(redactUrl('postgres://postgres@127.0.0.1:5432/seqcast')).toBe('postgres://postgres@127.0.0.1:5432/seqcast');
  });
  it('never echoes an unparseable url', () => {
    expect(redactUrl('not a url with password')).toBe('<unparseable database url>');
  });
});

describe('bigint columns', () => {
  it('read node-postgres int8 strings as numbers', () => {
    expect(bigintToNumber.from('9007199254740991')).toBe(9007199254740991);
    expect(bigintToNumber.from('0')).toBe(0);
    expect(bigintToNumber.from(null)).toBeNull();
  });
  it('refuse to round values beyond 2^53 - 1', () => {
    expect(() => bigintToNumber.from('9007199254740993')).toThrow(RangeError);
  });
});

describe('toMessage', () => {
  it('maps a row to the wire shape with ISO timestamps', () => {
    expect(
      toMessage({
        epoch: 'e1',
        roomId: 'r',
        seq: 7,
        prevSeq: null,
        partition: 3,
        clientMsgId: 'c',
        senderId: 'u',
        payload: null,
        payloadFingerprint: null,
        sentAt: new Date('2026-01-02T03:04:05.678Z'),
        sequencedAt: new Date('2026-01-02T03:04:06Z'),
      }),
    ).toEqual({
      roomId: 'r',
      seq: 7,
      prevSeq: null,
      epoch: 'e1',
      clientMsgId: 'c',
      senderId: 'u',
      payload: null,
      sentAt: '2026-01-02T03:04:05.678Z',
      sequencedAt: '2026-01-02T03:04:06.000Z',
    });
  });
});

describe('pgSslOptions', () => {
  it('leaves disable (and no setting) to the URL', () => {
    expect(pgSslOptions(undefined)).toBeUndefined();
    expect(pgSslOptions({ mode: 'disable' })).toBeUndefined();
  });
  it('encrypts without verifying for require without a CA', () => {
    expect(pgSslOptions({ mode: 'require' })).toEqual({ rejectUnauthorized: false });
  });
  it('verifies the chain but not the host name for require with a CA (libpq verify-ca)', () => {
    const options = pgSslOptions({ mode: 'require', ca: 'PEM' });
    expect(options).toMatchObject({ rejectUnauthorized: true, ca: 'PEM' });
    expect(options?.checkServerIdentity?.('db.example', {} as never)).toBeUndefined();
  });
  it('verifies chain and host name for verify-full, with public roots when no CA is given', () => {
    expect(pgSslOptions({ mode: 'verify-full', ca: 'PEM' })).toEqual({ rejectUnauthorized: true, ca: 'PEM' });
    expect(pgSslOptions({ mode: 'verify-full' })).toEqual({ rejectUnauthorized: true });
  });
});
