import { type IngestRecord, payloadFingerprint } from '@seqcast/contracts';
import { idempotencyKey, type KnownState, type StoredCopy } from './sequencer-store.port';
import { partitionForRoom } from '@seqcast/room-partitioner';
import { conflictReason, decodeRecord, encodeRaw, type InputRecord, lookupKeys, sequenceBatch } from './sequencer';

const PARTITIONS = 4;
const PARTITION = 2;
const NOW = new Date('2026-05-06T07:08:09.010Z');
const EPOCH = 'e0123456789ab';

/** Room ids that hash to the given partition, found deterministically. */
function roomsOn(partition: number, count: number): string[] {
  const rooms: string[] = [];
  for (let i = 0; rooms.length < count; i++) {
    if (partitionForRoom(`room-${i}`, PARTITIONS) === partition) rooms.push(`room-${i}`);
  }
  return rooms;
}
const [A, B] = roomsOn(PARTITION, 2) as [string, string];
const [ELSEWHERE] = roomsOn(0, 1) as [string];

function ingest(roomId: string, clientMsgId: string, extra: Partial<Record<keyof IngestRecord, unknown>> = {}) {
  return {
    v: 1,
    roomId,
    clientMsgId,
    senderId: 'alice',
    payload: { text: clientMsgId },
    sentAt: '2026-05-06T07:00:00Z',
    ...extra,
  };
}

function rec(
  offset: number,
  value: unknown,
  key: string | null = (value as { roomId?: string }).roomId ?? null,
): InputRecord {
  return {
    offset,
    key: key === null ? null : Buffer.from(key),
    value: Buffer.isBuffer(value) ? value : Buffer.from(JSON.stringify(value)),
  };
}

const nothingKnown: KnownState = { stored: new Map(), heads: new Map() };

/** Known state holding alice's stored copies: [roomId, clientMsgId, seq, payload (null: a v1 row without fingerprint)]. */
function storedCopies(copies: [string, string, number, unknown][], heads: [string, number][] = []): KnownState {
  const stored = new Map<string, StoredCopy>(
    copies.map(([roomId, clientMsgId, seq, payload]) => [
      idempotencyKey({ roomId, senderId: 'alice', clientMsgId }),
      { seq, fingerprint: payload === null ? null : payloadFingerprint(payload) },
    ]),
  );
  return { stored, heads: new Map(heads) };
}

function run(records: InputRecord[], known: KnownState = nothingKnown) {
  return sequenceBatch(records, { partition: PARTITION, partitions: PARTITIONS, epoch: EPOCH, now: NOW, known });
}

describe('sequencing a partition batch', () => {
  it('gives each message its offset as seq and chains every room separately', () => {
    const result = run([
      rec(10, ingest(A, 'a1')),
      rec(11, ingest(B, 'b1')),
      rec(12, ingest(A, 'a2')),
      rec(15, ingest(A, 'a3')),
    ]);
    expect(result.messages.map((m) => [m.roomId, m.seq, m.prevSeq])).toEqual([
      [A, 10, null],
      [B, 11, null],
      [A, 12, 10],
      [A, 15, 12],
    ]);
    expect(result.deadLetters).toEqual([]);
    expect(result.duplicates).toEqual([]);
    expect(result.messages[0]).toEqual({
      roomId: A,
      seq: 10,
      prevSeq: null,
      epoch: EPOCH,
      clientMsgId: 'a1',
      senderId: 'alice',
      payload: { text: 'a1' },
      sentAt: '2026-05-06T07:00:00.000Z',
      sequencedAt: '2026-05-06T07:08:09.010Z',
    });
  });

  it('continues a room from its stored head', () => {
    const result = run([rec(20, ingest(A, 'a9'))], { stored: new Map(), heads: new Map([[A, 17]]) });
    expect(result.messages.map((m) => [m.seq, m.prevSeq])).toEqual([[20, 17]]);
  });

  it('drops copies of an already stored message and counts them', () => {
    const known = storedCopies([[A, 'a1', 3, { text: 'a1' }]], [[A, 3]]);
    const result = run([rec(8, ingest(A, 'a1')), rec(9, ingest(A, 'a2')), rec(10, ingest(B, 'a1'))], known);
    expect(result.duplicates).toEqual([
      { offset: 8, roomId: A, senderId: 'alice', clientMsgId: 'a1', of: 'stored', seq: 3 },
    ]);
    expect(result.conflicts).toEqual([]);
    expect(result.messages.map((m) => [m.roomId, m.clientMsgId, m.seq, m.prevSeq])).toEqual([
      [A, 'a2', 9, 3],
      [B, 'a1', 10, null],
    ]);
  });

  it('keeps the first copy within a batch: seq is the offset of the first accepted copy', () => {
    const result = run([
      rec(1, ingest(A, 'x')),
      rec(2, ingest(A, 'x', { sentAt: '2026-05-06T07:00:05Z' })),
      rec(3, ingest(A, 'y')),
    ]);
    expect(result.messages.map((m) => [m.clientMsgId, m.seq, m.prevSeq, m.payload, m.sentAt])).toEqual([
      ['x', 1, null, { text: 'x' }, '2026-05-06T07:00:00.000Z'],
      ['y', 3, 1, { text: 'y' }, '2026-05-06T07:00:00.000Z'],
    ]);
    expect(result.duplicates).toEqual([{ offset: 2, roomId: A, senderId: 'alice', clientMsgId: 'x', of: 'batch', seq: 1 }]);
    expect(result.fingerprints).toEqual([payloadFingerprint({ text: 'x' }), payloadFingerprint({ text: 'y' })]);
  });

  describe('idempotency is per sender', () => {
    it('stores the same clientMsgId from two senders in one room as two messages, in one batch', () => {
      const result = run([
        rec(5, ingest(A, 'c-0001', { senderId: 'alice', payload: 'from alice' })),
        rec(6, ingest(A, 'c-0001', { senderId: 'bob', payload: 'from bob' })),
      ]);
      expect(result.messages.map((m) => [m.senderId, m.seq, m.prevSeq, m.payload])).toEqual([
        ['alice', 5, null, 'from alice'],
        ['bob', 6, 5, 'from bob'],
      ]);
      expect(result.duplicates).toEqual([]);
      expect(result.deadLetters).toEqual([]);
    });

    it("stores another sender's copy of a stored clientMsgId as a new message", () => {
      const known = storedCopies([[A, 'c-0001', 3, { text: 'c-0001' }]], [[A, 3]]);
      const result = run([rec(7, ingest(A, 'c-0001', { senderId: 'bob' }))], known);
      expect(result.messages.map((m) => [m.senderId, m.seq, m.prevSeq])).toEqual([['bob', 7, 3]]);
      expect(result.duplicates).toEqual([]);
    });

    it('treats a re-ordered but equal payload as a retry', () => {
      const known = storedCopies([[A, 'k', 3, { a: 1, b: [1, { c: 2, d: 3 }] }]], [[A, 3]]);
      const result = run([rec(7, ingest(A, 'k', { payload: { b: [1, { d: 3, c: 2 }], a: 1 } }))], known);
      expect(result.messages).toEqual([]);
      expect(result.duplicates.map((d) => d.offset)).toEqual([7]);
      expect(result.deadLetters).toEqual([]);
    });

    it('dead-letters a copy re-using a stored key with a different payload, naming the stored seq', () => {
      const known = storedCopies([[A, 'k', 3, { text: 'first' }]], [[A, 3]]);
      const record = ingest(A, 'k', { payload: { text: 'second' } });
      const result = run([rec(7, record), rec(8, ingest(A, 'k2'))], known);
      expect(result.messages.map((m) => [m.clientMsgId, m.seq, m.prevSeq])).toEqual([['k2', 8, 3]]);
      expect(result.duplicates).toEqual([]);
      const conflict = { offset: 7, roomId: A, senderId: 'alice', clientMsgId: 'k', of: 'stored', seq: 3 } as const;
      expect(result.conflicts).toEqual([conflict]);
      expect(result.deadLetters).toEqual([
        { offset: 7, reason: conflictReason(conflict), key: A, value: JSON.stringify(record) },
      ]);
      expect(conflictReason(conflict)).toMatch(
        /^idempotency_conflict: sender "alice" re-used clientMsgId "k" in room "room-\d+" for a different payload; the message stored as seq 3/,
      );
    });

    it('dead-letters a conflicting copy later in the same batch', () => {
      const result = run([rec(1, ingest(A, 'k', { payload: 1 })), rec(2, ingest(A, 'k', { payload: 2 }))]);
      expect(result.messages.map((m) => [m.seq, m.payload])).toEqual([[1, 1]]);
      expect(result.conflicts).toEqual([{ offset: 2, roomId: A, senderId: 'alice', clientMsgId: 'k', of: 'batch', seq: 1 }]);
      expect(result.deadLetters.map((d) => [d.offset, d.reason])).toEqual([
        [2, expect.stringContaining('accepted at offset 1 in this batch')],
      ]);
    });

    it('treats any copy of a key stored before fingerprints existed (v1 row) as a retry', () => {
      const known = storedCopies([[A, 'k', 3, null]], [[A, 3]]);
      const result = run([rec(7, ingest(A, 'k', { payload: 'anything' }))], known);
      expect(result.duplicates.map((d) => [d.offset, d.seq])).toEqual([[7, 3]]);
      expect(result.conflicts).toEqual([]);
    });
  });

  it('stores any JSON payload, including null', () => {
    const payloads = [null, 0, 'text', [1, [2]], { nested: { deep: true } }];
    const result = run(payloads.map((payload, i) => rec(i, ingest(A, `p${i}`, { payload }))));
    expect(result.messages.map((m) => m.payload)).toEqual(payloads);
  });

  it('normalises sentAt to UTC ISO-8601 so every copy of the message carries the same string', () => {
    const result = run([rec(1, ingest(A, 'tz', { sentAt: '2026-05-06T09:00:00.5+02:00' }))]);
    expect(result.messages[0]?.sentAt).toBe('2026-05-06T07:00:00.500Z');
  });

  describe('dead-letters poison and moves on', () => {
    const poison: [string, InputRecord, RegExp][] = [
      ['raw garbage', rec(0, Buffer.from('not json at all'), A), /^value is not JSON: /],
      ['bytes that are not UTF-8', rec(0, Buffer.from([0xff, 0xfe, 0x00]), A), /^value is not UTF-8 text$/],
      ['an empty record (tombstone)', { offset: 0, key: Buffer.from(A), value: null }, /^record has no value$/],
      ['JSON that is not an object', rec(0, [1, 2], A), /^invalid ingest record: /],
      ['an unknown version', rec(0, ingest(A, 'v', { v: 2 })), /^invalid ingest record: v: /],
      ['a missing field', rec(0, { ...ingest(A, 'm'), senderId: undefined }), /senderId: Required/],
      ['a bad room id', rec(0, ingest('bad room', 'r'), 'bad room'), /roomId: must be 1-128/],
      ['an unknown field', rec(0, { ...ingest(A, 'u'), extra: 1 }), /Unrecognized key/],
      ['a bad sentAt', rec(0, ingest(A, 's', { sentAt: 'yesterday' })), /sentAt/],
      ['a sentAt before year 1', rec(0, ingest(A, 's', { sentAt: '0001-01-01T00:30:00+01:00' })), /years 0001-9999/],
      ['a missing key', rec(0, ingest(A, 'k'), null), /^no key does not match roomId/],
      [
        'a key that is not the room',
        rec(0, ingest(A, 'k'), B),
        new RegExp(`^key "${B}" does not match roomId "${A}"$`),
      ],
      [
        'a room of another partition',
        rec(0, ingest(ELSEWHERE, 'w')),
        new RegExp(`^room "${ELSEWHERE}" belongs to partition 0 of 4, record is in partition 2$`),
      ],
      ['a NUL in the payload', rec(0, ingest(A, 'n', { payload: { t: 'a\u0000b' } })), /cannot store/],
      ['an unpaired surrogate in a payload key', rec(0, ingest(A, 'n', { payload: { '\uD800': 1 } })), /cannot store/],
      ['a NUL in the sender', rec(0, ingest(A, 'n', { senderId: 'x\u0000' })), /cannot store/],
    ];

    it.each(poison)('%s', (_kind, record, reason) => {
      const result = run([rec(0, ingest(A, 'before')), { ...record, offset: 1 }, rec(2, ingest(A, 'after'))]);
      expect(result.deadLetters).toHaveLength(1);
      expect(result.deadLetters[0]).toMatchObject({ offset: 1, reason: expect.stringMatching(reason) });
      expect(result.messages.map((m) => [m.seq, m.prevSeq])).toEqual([
        [0, null],
        [2, 0],
      ]);
    });

    it('keeps the raw key and value, base64 when they are not storable text', () => {
      const [letter] = run([rec(5, Buffer.from([0xc3, 0x28]), 'k\u0000')]).deadLetters;
      expect(letter).toEqual({
        offset: 5,
        reason: 'value is not UTF-8 text',
        key: `base64:${Buffer.from('k\u0000').toString('base64')}`,
        value: 'base64:wyg=',
      });
      expect(run([rec(6, Buffer.from('{oops'), A)]).deadLetters[0]).toMatchObject({ key: A, value: '{oops' });
    });

    it('never lets a reason carry text the database would reject, and bounds its length', () => {
      const [letter] = run([rec(0, { ...ingest(A, 'z'), ['\u0000'.repeat(2000)]: 1 })]).deadLetters;
      expect(letter?.reason.includes('\u0000')).toBe(false);
      expect(letter?.reason.length).toBeLessThanOrEqual(1000);
    });

    it('refuses to run a chain backwards when a stored head is not below the offset', () => {
      const result = run([rec(4, ingest(A, 'late'))], { stored: new Map(), heads: new Map([[A, 9]]) });
      expect(result.messages).toEqual([]);
      expect(result.deadLetters[0]).toMatchObject({
        offset: 4,
        reason: `room "${A}" already has seq 9, not below this offset`,
      });
    });
  });
});

describe('encodeRaw', () => {
  it('keeps UTF-8 text and marks everything else as base64', () => {
    expect(encodeRaw(null)).toBeNull();
    expect(encodeRaw(Buffer.from('héllo'))).toBe('héllo');
    expect(encodeRaw(Buffer.from([0xff]))).toBe('base64:/w==');
    // Text that merely looks encoded is encoded too, so decoding is unambiguous.
    expect(encodeRaw(Buffer.from('base64:abc'))).toBe(`base64:${Buffer.from('base64:abc').toString('base64')}`);
  });
});

describe('lookupKeys', () => {
  it('lists the rooms once and every id of the valid records', () => {
    const context = { partition: PARTITION, partitions: PARTITIONS };
    const decoded = [
      rec(0, ingest(A, '1')),
      rec(1, Buffer.from('x'), A),
      rec(2, ingest(B, '1')),
      rec(3, ingest(A, '2')),
    ].map((r) => decodeRecord(r, context));
    expect(lookupKeys(decoded)).toEqual({
      roomIds: [A, B],
      ids: [
        { roomId: A, senderId: 'alice', clientMsgId: '1' },
        { roomId: B, senderId: 'alice', clientMsgId: '1' },
        { roomId: A, senderId: 'alice', clientMsgId: '2' },
      ],
    });
  });
});
