import { type ConnectionState, type JsonValue, SeqcastClient, type StateDetail } from '@seqcast/client';
import { useConnectionState } from '@seqcast/react';
import { type FormEvent, useEffect, useState } from 'react';
import { type ConsoleConfig, loadConfig, mintDevToken, tokenSubject } from './console-api';
import { RoomPanel } from './room-panel';

interface Session {
  client: SeqcastClient<JsonValue>;
  user: string;
}

interface LogLine {
  at: string;
  text: string;
}

const MAX_LOG_LINES = 200;

function describeState(state: ConnectionState, detail?: StateDetail): string {
  const parts = [
    detail?.reason && `reason ${detail.reason}`,
    detail?.attempt && `attempt ${detail.attempt}`,
    detail?.delayMs !== undefined && `retry in ${detail.delayMs} ms`,
  ].filter(Boolean);
  return parts.length > 0 ? `${state} (${parts.join(', ')})` : state;
}

export function App() {
  const [config, setConfig] = useState<ConsoleConfig | undefined>(undefined);
  const [configError, setConfigError] = useState<string | undefined>(undefined);
  const [session, setSession] = useState<Session | undefined>(undefined);
  const [log, setLog] = useState<LogLine[]>([]);
  const [rooms, setRooms] = useState<string[]>([]);
  const [connectedSince, setConnectedSince] = useState(0);
  const [reconnects, setReconnects] = useState(0);
  const connection = useConnectionState(session?.client);

  useEffect(() => {
    loadConfig().then(setConfig, (error: unknown) => setConfigError(String(error)));
  }, []);

  const addLog = (text: string) =>
    setLog((lines) => [{ at: new Date().toISOString().slice(11, 23), text }, ...lines].slice(0, MAX_LOG_LINES));

  useEffect(() => {
    if (!session) return undefined;
    let connects = 0;
    const offState = session.client.on('state', (state, detail) => {
      addLog(describeState(state, detail));
      if (state === 'connected') {
        connects++;
        setReconnects(connects - 1);
        setConnectedSince(Date.now());
      }
    });
    const offError = session.client.on('error', (error) => addLog(`error ${error.code}: ${error.message}`));
    const offGap = session.client.on('gap', (room, info) => addLog(`gap in ${room}: expected prevSeq ${info.expectedPrevSeq}, got ${info.gotPrevSeq}; resubscribing`));
    const offReset = session.client.on('reset', (room) => addLog(`reset of ${room}: new epoch, delivery restarts`));
    session.client.connect();
    return () => {
      offState();
      offError();
      offGap();
      offReset();
      session.client.close();
    };
  }, [session]);

  const signIn = (token: string) => {
    if (!config) return;
    const client = new SeqcastClient<JsonValue>({
      gatewayUrl: config.gatewayUrl,
      // Same origin: the console server forwards /v1/* to ingest-api.
      ingestUrl: window.location.origin,
      token,
      reconnect: { baseDelayMs: 250, maxDelayMs: 5_000, maxRetries: 1_000 },
    });
    setReconnects(0);
    setSession({ client, user: tokenSubject(token) ?? 'unknown user' });
  };

  const signOut = () => {
    setSession(undefined);
    setRooms([]);
  };

  return (
    <>
      <header>
        <h1>Seqcast console</h1>
        <span className={`badge ${connection}`} data-testid="connection-state">
          {connection}
        </span>
        <span data-testid="reconnects">reconnects: {reconnects}</span>
        {config && <span className="muted">gateway {config.gatewayUrl}</span>}
        {session && (
          <span className="who">
            signed in as <strong data-testid="user">{session.user}</strong>{' '}
            <button className="secondary" type="button" onClick={signOut}>
              sign out
            </button>
          </span>
        )}
      </header>
      <main>
        {configError && <p className="error-text">Cannot load the console configuration: {configError}</p>}
        {!session && config && <SignIn devTokens={config.devTokens} onToken={signIn} />}
        {session && (
          <>
            <JoinRoom onJoin={(roomId) => setRooms((current) => (current.includes(roomId) ? current : [...current, roomId]))} />
            <div className="rooms">
              {rooms.map((roomId) => (
                <RoomPanel
                  key={roomId}
                  client={session.client}
                  roomId={roomId}
                  connectedSince={connectedSince}
                  reconnects={reconnects}
                  onLeave={() => setRooms((current) => current.filter((r) => r !== roomId))}
                />
              ))}
            </div>
            <section className="card">
              <h2>Connection log</h2>
              <pre className="log" data-testid="log">
                {log.map((line) => `${line.at}  ${line.text}`).join('\n')}
              </pre>
            </section>
          </>
        )}
      </main>
    </>
  );
}

function SignIn({ devTokens, onToken }: { devTokens: boolean; onToken: (token: string) => void }) {
  const [token, setToken] = useState('');
  const [user, setUser] = useState('console-user');
  const [rooms, setRooms] = useState('*');
  const [error, setError] = useState<string | undefined>(undefined);
  const paste = (event: FormEvent) => {
    event.preventDefault();
    if (token.trim() !== '') onToken(token.trim());
  };
  const mint = async () => {
    try {
      onToken(await mintDevToken(user, rooms.split(',').map((r) => r.trim()).filter(Boolean)));
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <section className="card">
      <h2>Sign in</h2>
      <form onSubmit={paste} className="row">
        <input name="token" placeholder="paste a JWT" value={token} onChange={(e) => setToken(e.target.value)} style={{ flex: 1 }} />
        <button type="submit">sign in</button>
      </form>
      {devTokens && (
        <div className="row" style={{ marginTop: 8 }}>
          <span className="muted">or, in development, a token for</span>
          <input name="dev-user" value={user} onChange={(e) => setUser(e.target.value)} aria-label="user" />
          <span className="muted">rooms</span>
          <input name="dev-rooms" value={rooms} onChange={(e) => setRooms(e.target.value)} aria-label="room patterns" />
          <button type="button" name="dev-token" onClick={() => void mint()}>
            use a development token
          </button>
        </div>
      )}
      {error && <p className="error-text">{error}</p>}
    </section>
  );
}

function JoinRoom({ onJoin }: { onJoin: (roomId: string) => void }) {
  const [roomId, setRoomId] = useState('');
  const join = (event: FormEvent) => {
    event.preventDefault();
    if (roomId.trim() !== '') onJoin(roomId.trim());
    setRoomId('');
  };
  return (
    <form onSubmit={join} className="row">
      <input name="room" placeholder="room id, e.g. team-42:general" value={roomId} onChange={(e) => setRoomId(e.target.value)} />
      <button type="submit" name="join">
        join
      </button>
    </form>
  );
}
