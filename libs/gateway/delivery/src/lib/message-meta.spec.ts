import { message } from '../testing';
import { messageBytes, rememberEncodedBytes, sentAtMs, totalBytes } from './message-meta';

describe('message meta', () => {
  it('sizes a message by its compact JSON once, and by its record when decoded', () => {
    const plain = message('a', 1, null);
    const bytes = Buffer.byteLength(JSON.stringify(plain));
    expect(messageBytes(plain)).toBe(bytes);
    const decoded = message('a', 2, 1);
    rememberEncodedBytes(decoded, 999);
    expect(messageBytes(decoded)).toBe(999);
    expect(totalBytes([plain, decoded])).toBe(bytes + 999);
  });

  // Socket.IO encodes event arguments with JSON.stringify (socket.io-parser's encodeAsString).
  it('is invisible to JSON, key listings, spreads and equality', () => {
    const tagged = message('a', 3, 2);
    const before = JSON.stringify(tagged);
    rememberEncodedBytes(tagged, 10);
    expect(sentAtMs(tagged)).toBe(Date.parse(tagged.sentAt));
    expect(JSON.stringify(tagged)).toBe(before);
    expect(JSON.stringify({ data: ['messages', { roomId: 'a', messages: [tagged] }] })).toContain(before);
    expect(Object.keys(tagged)).toEqual(Object.keys(message('a', 3, 2)));
    expect(tagged).toEqual(message('a', 3, 2));
    // A copy is sized by its own content, not by the original's record.
    expect(messageBytes({ ...tagged })).toBe(Buffer.byteLength(before));
  });

  it('reads sentAt as epoch milliseconds, NaN when unparseable', () => {
    expect(sentAtMs({ ...message('a', 4, 3), sentAt: '2026-12-07T05:00:00.000Z' })).toBe(Date.UTC(2026, 11, 7, 5));
    expect(sentAtMs({ ...message('a', 5, 4), sentAt: 'yesterday' })).toBeNaN();
  });
});
