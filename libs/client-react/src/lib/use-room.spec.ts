/**
 * The hook against a scriptable stand-in for SeqcastClient (ordering, dedupe and reconnects are the
 * SDK's, tested there and in the browser test): what is tested here is the React side, i.e. state
 * mirrors what the client delivers, and the subscription follows the component's lifetime.
 */
import { type ConnectionState, type RoomMessage, type SeqcastClient, SeqcastError } from '@seqcast/client';
import { act, renderHook, waitFor } from '@testing-library/react';
import { useRoom } from './use-room';

type Chat = { text: string };
type Listener = (...args: unknown[]) => void;

class FakeClient {
  state: ConnectionState = 'connected';
  readonly listeners = new Map<string, Set<Listener>>();
  readonly handlers = new Map<string, (m: RoomMessage<Chat>) => void>();
  readonly subscribes: Array<{ roomId: string; resolve: () => void; reject: (e: Error) => void }> = [];
  readonly unsubscribed: string[] = [];
  readonly published: Array<[string, Chat]> = [];

  subscribe(roomId: string, onMessage: (m: RoomMessage<Chat>) => void): Promise<void> {
    this.handlers.set(roomId, onMessage);
    return new Promise((resolve, reject) => this.subscribes.push({ roomId, resolve, reject }));
  }
  async unsubscribe(roomId: string): Promise<void> {
    this.handlers.delete(roomId);
    this.unsubscribed.push(roomId);
  }
  async publish(roomId: string, payload: Chat) {
    this.published.push([roomId, payload]);
    return { roomId, clientMsgId: 'c', partition: 0, offset: 1 };
  }
  on(event: string, fn: Listener): () => void {
    const set = this.listeners.get(event) ?? new Set();
    this.listeners.set(event, set);
    set.add(fn);
    return () => void set.delete(fn);
  }
  // --- the test plays the client's side ---
  emit(event: string, ...args: unknown[]): void {
    for (const fn of this.listeners.get(event) ?? []) fn(...args);
  }
  deliver(roomId: string, seq: number, prevSeq: number | null, text = `m${seq}`): void {
    this.handlers.get(roomId)?.({
      roomId,
      seq,
      prevSeq,
      epoch: 'e1',
      clientMsgId: `c${seq}`,
      senderId: 'u',
      payload: { text },
      sentAt: '2026-12-06T04:00:00.000Z',
      sequencedAt: '2026-12-06T04:00:00.010Z',
    });
  }
  asClient(): SeqcastClient<Chat> {
    return this as unknown as SeqcastClient<Chat>;
  }
}

describe('useRoom', () => {
  it('goes live on the ack and shows delivered messages in order', async () => {
    const fake = new FakeClient();
    const { result } = renderHook(() => useRoom(fake.asClient(), 'lobby'));
    expect(result.current.status).toBe('subscribing');
    expect(result.current.connection).toBe('connected');
    await act(async () => fake.subscribes[0].resolve());
    expect(result.current.status).toBe('live');
    act(() => {
      fake.deliver('lobby', 4, null);
      fake.deliver('lobby', 7, 4);
      fake.deliver('other', 9, 8);
    });
    expect(result.current.messages.map((m) => [m.seq, m.prevSeq, m.payload.text])).toEqual([
      [4, null, 'm4'],
      [7, 4, 'm7'],
    ]);
  });

  it('keeps only the newest maxMessages', async () => {
    const fake = new FakeClient();
    const { result } = renderHook(() => useRoom(fake.asClient(), 'lobby', { maxMessages: 2 }));
    act(() => [1, 2, 3].forEach((seq) => fake.deliver('lobby', seq, seq - 1)));
    expect(result.current.messages.map((m) => m.seq)).toEqual([2, 3]);
  });

  it('reports a refused subscription', async () => {
    const fake = new FakeClient();
    const { result } = renderHook(() => useRoom(fake.asClient(), 'secret'));
    await act(async () => fake.subscribes[0].reject(new SeqcastError('forbidden', 'subscribe secret: not allowed')));
    expect(result.current.status).toBe('error');
    expect(result.current.error).toMatchObject({ code: 'forbidden' });
  });

  it('follows the connection state, counts gaps and clears on reset', async () => {
    const fake = new FakeClient();
    const { result } = renderHook(() => useRoom(fake.asClient(), 'lobby'));
    act(() => fake.deliver('lobby', 1, null));
    act(() => {
      fake.state = 'reconnecting';
      fake.emit('state', 'reconnecting', { attempt: 1 });
      fake.emit('gap', 'lobby', { expectedPrevSeq: 1, gotPrevSeq: 5 });
      fake.emit('gap', 'other', { expectedPrevSeq: 1, gotPrevSeq: 5 });
    });
    expect(result.current.connection).toBe('reconnecting');
    expect(result.current.gaps).toBe(1);
    act(() => fake.emit('reset', 'lobby'));
    expect(result.current.resets).toBe(1);
    expect(result.current.messages).toEqual([]);
  });

  it('moves the subscription when the room changes and unsubscribes on unmount', async () => {
    const fake = new FakeClient();
    const { result, rerender, unmount } = renderHook(({ room }) => useRoom(fake.asClient(), room), { initialProps: { room: 'a' } });
    act(() => fake.deliver('a', 1, null));
    rerender({ room: 'b' });
    expect(fake.unsubscribed).toEqual(['a']);
    expect(fake.subscribes.map((s) => s.roomId)).toEqual(['a', 'b']);
    expect(result.current.messages).toEqual([]);
    // A late answer for the old room changes nothing.
    await act(async () => fake.subscribes[0].reject(new SeqcastError('unsubscribed', 'gone')));
    expect(result.current.status).toBe('subscribing');
    unmount();
    expect(fake.unsubscribed).toEqual(['a', 'b']);
    expect(fake.listeners.get('gap')?.size).toBe(0);
    expect(fake.listeners.get('state')?.size).toBe(0);
  });

  it('publishes to its room; without a room publish rejects', async () => {
    const fake = new FakeClient();
    const { result, rerender } = renderHook(({ room }: { room: string | null }) => useRoom(fake.asClient(), room), {
      initialProps: { room: 'lobby' as string | null },
    });
    await act(async () => void (await result.current.publish({ text: 'hi' })));
    expect(fake.published).toEqual([['lobby', { text: 'hi' }]]);
    rerender({ room: null });
    expect(result.current.status).toBe('idle');
    await expect(result.current.publish({ text: 'x' })).rejects.toThrow(/needs a client and a room/);
    await waitFor(() => expect(fake.subscribes).toHaveLength(1));
  });
});
