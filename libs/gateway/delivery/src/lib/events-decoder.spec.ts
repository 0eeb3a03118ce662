import { decodeEventBatch } from './events-decoder';
import { messageBytes } from './message-meta';
import { message } from '../testing';

const record = (offset: number, value: unknown) => ({
  offset: String(offset),
  value: value === null ? null : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
});

describe('decodeEventBatch', () => {
  it('groups messages by room, keeping partition order within each room', () => {
    const { byRoom, poison } = decodeEventBatch([
      record(0, message('a', 10, null)),
      record(1, message('b', 11, null)),
      record(2, message('a', 12, 10)),
    ]);
    expect(poison).toEqual([]);
    expect([...byRoom.keys()]).toEqual(['a', 'b']);
    expect(byRoom.get('a')?.map((m) => m.seq)).toEqual([10, 12]);
    expect(byRoom.get('a')?.[0]).toEqual(message('a', 10, null));
  });

  it('reports and skips poison records without dropping the rest', () => {
    const { byRoom, poison } = decodeEventBatch([
      record(0, null),
      record(1, '{not json'),
      record(2, { ...message('a', 1, null), seq: -5 }),
      record(3, { ...message('a', 2, null), extra: true }),
      record(4, message('a', 3, null)),
    ]);
    expect(poison.map((p) => p.offset)).toEqual(['0', '1', '2', '3']);
    expect(poison[0].reason).toBe('record has no value');
    expect(poison[1].reason).toBe('value is not JSON');
    expect(poison[2].reason).toContain('seq');
    expect(byRoom.get('a')?.map((m) => m.seq)).toEqual([3]);
  });

  it('sizes a decoded message by its record, without serialising it again', () => {
    // Pretty-printed, so the record is longer than the message's compact JSON.
    const value = JSON.stringify(message('a', 1, null), null, 2);
    const decoded = decodeEventBatch([record(0, value)]).byRoom.get('a')?.[0];
    expect(decoded).toBeDefined();
    expect(messageBytes(decoded!)).toBe(Buffer.byteLength(value));
    expect(Buffer.byteLength(value)).toBeGreaterThan(Buffer.byteLength(JSON.stringify(decoded)));
  });
});
