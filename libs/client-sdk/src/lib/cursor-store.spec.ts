import { type CursorStorage, LocalStorageCursorStore, MemoryCursorStore } from './cursor-store';

class FakeStorage implements CursorStorage {
  readonly items = new Map<string, string>();
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, String(value));
  }
  removeItem(key: string): void {
    this.items.delete(key);
  }
}

describe('MemoryCursorStore', () => {
  it('keeps one cursor per room and forgets it on delete', () => {
    const store = new MemoryCursorStore();
    expect(store.get('r1')).toBeUndefined();
    store.set('r1', { epoch: 'e1', seq: 5 });
    store.set('r2', { epoch: 'e1', seq: -1 });
    store.set('r1', { epoch: 'e1', seq: 9 });
    expect(store.get('r1')).toEqual({ epoch: 'e1', seq: 9 });
    expect(store.get('r2')).toEqual({ epoch: 'e1', seq: -1 });
    store.delete('r1');
    expect(store.get('r1')).toBeUndefined();
  });

  it('hands out copies, so callers cannot move a stored cursor by mutating it', () => {
    const store = new MemoryCursorStore();
    const cursor = { epoch: 'e1', seq: 5 };
    store.set('r1', cursor);
    cursor.seq = 99;
    const read = store.get('r1');
    if (read) read.seq = 100;
    expect(store.get('r1')).toEqual({ epoch: 'e1', seq: 5 });
  });
});

describe('LocalStorageCursorStore', () => {
  it('stores JSON per room under the prefix', () => {
    const storage = new FakeStorage();
    const store = new LocalStorageCursorStore(storage);
    store.set('team-42:general', { epoch: 'e3f9', seq: 1187 });
    expect(storage.items.get('seqcast:cursor:team-42:general')).toBe('{"epoch":"e3f9","seq":1187}');
    expect(store.get('team-42:general')).toEqual({ epoch: 'e3f9', seq: 1187 });
    expect(store.get('other')).toBeUndefined();
    store.delete('team-42:general');
    expect(storage.items.size).toBe(0);
  });

  it('honours a custom prefix', () => {
    const storage = new FakeStorage();
    new LocalStorageCursorStore(storage, 'app1/').set('r', { epoch: 'e', seq: 0 });
    expect([...storage.items.keys()]).toEqual(['app1/r']);
  });

  it.each([
    ['not JSON', '{epoch: e1'],
    ['JSON null', 'null'],
    ['a number', '42'],
    ['a missing seq', '{"epoch":"e1"}'],
    ['an empty epoch', '{"epoch":"","seq":3}'],
    ['a fractional seq', '{"epoch":"e1","seq":1.5}'],
    ['a seq below -1', '{"epoch":"e1","seq":-2}'],
    ['a string seq', '{"epoch":"e1","seq":"3"}'],
  ])('treats a corrupt entry (%s) as no cursor instead of failing', (_name, raw) => {
    const storage = new FakeStorage();
    storage.setItem('seqcast:cursor:r1', raw);
    const store = new LocalStorageCursorStore(storage);
    expect(store.get('r1')).toBeUndefined();
    // And it can be overwritten by a good cursor afterwards.
    store.set('r1', { epoch: 'e1', seq: 4 });
    expect(store.get('r1')).toEqual({ epoch: 'e1', seq: 4 });
  });

  it('explains itself when there is no localStorage (Node) and none was passed', () => {
    expect(() => new LocalStorageCursorStore()).toThrow(/no localStorage in this environment/);
  });
});
