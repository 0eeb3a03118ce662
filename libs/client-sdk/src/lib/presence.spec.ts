import type { PresenceAck } from '@seqcast/contracts/wire';
import { type PresenceChange, PresenceTracker, type PresenceTransport } from './presence';

function tracker(transport: PresenceTransport | undefined, timeoutMs = 1_000) {
  return new PresenceTracker(() => transport, () => timeoutMs);
}

describe('PresenceTracker', () => {
  it('asks for presence on the subscribes of rooms that opted in, and only those', () => {
    const presence = tracker(undefined);
    presence.want('lobby');
    expect(presence.decorate({ roomId: 'lobby', afterSeq: 5, epoch: 'e1' })).toEqual({
      roomId: 'lobby',
      afterSeq: 5,
      epoch: 'e1',
      presence: true,
    });
    expect(presence.decorate({ roomId: 'other' })).toEqual({ roomId: 'other' });
    presence.forget('lobby');
    expect(presence.decorate({ roomId: 'lobby' })).toEqual({ roomId: 'lobby' });
  });

  it('lists members through the transport and turns a failed ack into a SeqcastError', async () => {
    let answer: PresenceAck = { ok: true, roomId: 'lobby', members: [{ userId: 'ann', since: '2026-12-06T08:00:00.000Z' }], truncated: false };
    const transport: PresenceTransport = { presence: (_request, ack) => ack(answer) };
    const presence = tracker(transport);
    await expect(presence.list('lobby')).resolves.toEqual({ roomId: 'lobby', members: answer.members, truncated: false });
    answer = { ok: false, error: { code: 'forbidden', message: 'token does not grant subscribe to room lobby' } };
    await expect(presence.list('lobby')).rejects.toMatchObject({ code: 'forbidden' });
  });

  it('needs a connection, and gives up on a missing answer', async () => {
    await expect(tracker(undefined).list('lobby')).rejects.toMatchObject({ code: 'network' });
    jest.useFakeTimers();
    try {
      const pending = tracker({ presence: () => undefined }, 50).list('lobby');
      jest.advanceTimersByTime(50);
      await expect(pending).rejects.toMatchObject({ code: 'timeout' });
    } finally {
      jest.useRealTimers();
    }
  });

  it('hands joins and leaves of opted-in rooms to listeners, isolating a throwing one', () => {
    const presence = tracker(undefined);
    presence.want('lobby');
    const seen: PresenceChange[] = [];
    presence.onChange(() => {
      throw new Error('app bug');
    });
    const off = presence.onChange((change) => seen.push(change));
    presence.dispatch('join', { roomId: 'lobby', userId: 'ann' });
    presence.dispatch('leave', { roomId: 'elsewhere', userId: 'bob' });
    off();
    presence.dispatch('leave', { roomId: 'lobby', userId: 'ann' });
    expect(seen).toEqual([{ type: 'join', roomId: 'lobby', userId: 'ann' }]);
  });
});
