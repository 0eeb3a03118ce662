/**
 * Where the SDK keeps each room's cursor (epoch, seq): the last message the app was given. A
 * persistent store lets a restarted app resume where it stopped instead of "from now on".
 */

export interface Cursor {
  /** The numbering's incarnation; the seq is meaningless in any other epoch. */
  epoch: string;
  /** seq of the last message delivered to the app (-1: before the room's first message). */
  seq: number;
}

/** May be synchronous or asynchronous; the SDK awaits get() and does not block on set()/delete(). */
export interface CursorStore {
  get(roomId: string): Cursor | undefined | Promise<Cursor | undefined>;
  set(roomId: string, cursor: Cursor): void | Promise<void>;
  delete(roomId: string): void | Promise<void>;
}

export class MemoryCursorStore implements CursorStore {
  private readonly cursors = new Map<string, Cursor>();

  get(roomId: string): Cursor | undefined {
    const cursor = this.cursors.get(roomId);
    return cursor && { ...cursor };
  }

  set(roomId: string, cursor: Cursor): void {
    this.cursors.set(roomId, { epoch: cursor.epoch, seq: cursor.seq });
  }

  delete(roomId: string): void {
    this.cursors.delete(roomId);
  }
}

export type CursorStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

/** Browser persistence: one JSON entry per room under `prefix + roomId`. */
export class LocalStorageCursorStore implements CursorStore {
  private readonly storage: CursorStorage;

  constructor(
    storage?: CursorStorage,
    private readonly prefix = 'seqcast:cursor:',
  ) {
    const resolved = storage ?? (globalThis as { localStorage?: CursorStorage }).localStorage;
    if (!resolved) {
      throw new TypeError('LocalStorageCursorStore: no localStorage in this environment; pass a Storage');
    }
    this.storage = resolved;
  }

  /** A corrupt or foreign entry reads as "no cursor": the room restarts from now rather than failing. */
  get(roomId: string): Cursor | undefined {
    const raw = this.storage.getItem(this.prefix + roomId);
    if (raw === null) return undefined;
    try {
      return parseCursor(JSON.parse(raw));
    } catch {
      return undefined;
    }
  }

  set(roomId: string, cursor: Cursor): void {
    this.storage.setItem(this.prefix + roomId, JSON.stringify({ epoch: cursor.epoch, seq: cursor.seq }));
  }

  delete(roomId: string): void {
    this.storage.removeItem(this.prefix + roomId);
  }
}

function parseCursor(value: unknown): Cursor | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { epoch, seq } = value as { epoch?: unknown; seq?: unknown };
  if (typeof epoch !== 'string' || epoch.length === 0) return undefined;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < -1) return undefined;
  return { epoch, seq };
}
