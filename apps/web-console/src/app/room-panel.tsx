import { type JsonValue, type SeqcastClient } from '@seqcast/client';
import { useRoom } from '@seqcast/react';
import { type FormEvent, useRef, useState } from 'react';
import { chainIntact, chainMarks } from './chain';

interface Props {
  client: SeqcastClient<JsonValue>;
  roomId: string;
  /** Browser time of the latest (re)connect, and how many reconnects came before it. */
  connectedSince: number;
  reconnects: number;
  onLeave: () => void;
}

/**
 * One room: its messages as the SDK delivers them (seq, prevSeq and whether the chain holds), and
 * a publish form. A message that was sequenced before the latest reconnect but arrived after it
 * was missed while the connection was down and replayed on resume: it is tagged `replay`.
 */
export function RoomPanel({ client, roomId, connectedSince, reconnects, onLeave }: Props) {
  const room = useRoom(client, roomId, { maxMessages: 1000 });
  const replayed = useRef(new Map<string, boolean>());
  for (const m of room.messages) {
    const key = `${m.epoch}:${m.seq}`;
    if (!replayed.current.has(key)) replayed.current.set(key, reconnects > 0 && Date.parse(m.sequencedAt) < connectedSince);
  }
  const marks = chainMarks(room.messages);
  const replayCount = room.messages.filter((m) => replayed.current.get(`${m.epoch}:${m.seq}`)).length;

  const [payload, setPayload] = useState('{"text": "hello"}');
  const [result, setResult] = useState<{ ok: boolean; text: string } | undefined>(undefined);
  const publish = async (event: FormEvent) => {
    event.preventDefault();
    let value: JsonValue;
    try {
      value = JSON.parse(payload) as JsonValue;
    } catch {
      setResult({ ok: false, text: 'the payload is not valid JSON' });
      return;
    }
    try {
      const accepted = await room.publish(value);
      setResult({ ok: true, text: `accepted: partition ${accepted.partition}, offset ${accepted.offset}` });
    } catch (error) {
      setResult({ ok: false, text: error instanceof Error ? error.message : String(error) });
    }
  };

  return (
    <section className="card" data-room={roomId}>
      <div className="row">
        <h2>{roomId}</h2>
        <span className={`badge ${room.status}`} data-testid="room-status">
          {room.status}
        </span>
        <span className="muted" data-testid="room-stats">
          {room.messages.length} messages · chain {chainIntact(room.messages) ? 'intact' : 'BROKEN'} · {replayCount} replayed ·{' '}
          {room.gaps} gaps healed
        </span>
        <button className="secondary" type="button" onClick={onLeave} style={{ marginLeft: 'auto' }}>
          leave
        </button>
      </div>
      {room.error && <p className="error-text">{room.error.message}</p>}
      <div className="messages">
        <table>
          <thead>
            <tr>
              <th>seq</th>
              <th>prevSeq</th>
              <th>chain</th>
              <th>sender</th>
              <th>payload</th>
            </tr>
          </thead>
          <tbody>
            {room.messages.map((m, i) => {
              const isReplay = replayed.current.get(`${m.epoch}:${m.seq}`) === true;
              return (
                <tr key={`${m.epoch}:${m.seq}`} data-seq={m.seq} data-prev-seq={m.prevSeq ?? ''} data-replayed={String(isReplay)}>
                  <td>{m.seq}</td>
                  <td>{m.prevSeq ?? '–'}</td>
                  <td className={marks[i] === 'broken' ? 'chain-broken' : 'chain-ok'}>{marks[i] === 'broken' ? '✗ gap' : '✓'}</td>
                  <td>
                    {m.senderId} {isReplay && <span className="tag">replay</span>}
                  </td>
                  <td className="payload">{JSON.stringify(m.payload)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <form onSubmit={publish}>
        <textarea name="payload" rows={2} value={payload} onChange={(e) => setPayload(e.target.value)} aria-label={`payload for ${roomId}`} />
        <div className="row">
          <button type="submit" name="publish">
            publish
          </button>
          {result && (
            <span className={result.ok ? 'muted' : 'error-text'} data-testid="publish-result">
              {result.text}
            </span>
          )}
        </div>
      </form>
    </section>
  );
}
