import type { Message } from '@seqcast/contracts/wire';
import { chain, FakeGateway, message } from '../testing';
import { type CursorStore, MemoryCursorStore } from './cursor-store';
import {
  type ConnectionState,
  SERVER_RESTART_FALLBACK_MS,
  SeqcastClient,
  type SeqcastClientOptions,
  type StateDetail,
} from './seqcast-client';
import { SeqcastError } from './seqcast-error';

const ROOM = 'team-42:general';

/** Runs pending microtasks (token and cursor-store awaits) without moving the clock. */
const settle = () => jest.advanceTimersByTimeAsync(0);

function setup(options: Partial<SeqcastClientOptions> = {}) {
  const gateway = new FakeGateway();
  const store = new MemoryCursorStore();
  const client = new SeqcastClient(
    {
      gatewayUrl: 'http://gateway.test',
      ingestUrl: 'http://ingest.test',
      token: 'tok',
      cursorStore: store,
      random: () => 0.5,
      ...options,
    },
    { transportFactory: gateway.factory },
  );
  const states: Array<[ConnectionState, StateDetail | undefined]> = [];
  const errors: SeqcastError[] = [];
  client.on('state', (state, detail) => states.push([state, detail]));
  client.on('error', (error) => errors.push(error));
  return { gateway, store, client, states, errors };
}

/** Connects, subscribes ROOM and answers the ack; returns what the handler received. */
async function subscribed(
  options: Partial<SeqcastClientOptions> = {},
  ack: { headSeq?: number; epoch?: string } = { headSeq: 10 },
) {
  const ctx = setup(options);
  const received: Message[] = [];
  ctx.client.connect();
  await settle();
  ctx.gateway.last.accept();
  const done = ctx.client.subscribe(ROOM, (m) => received.push(m));
  await settle();
  ctx.gateway.last.answer(ack);
  await done;
  return { ...ctx, received, seqs: () => received.map((m) => m.seq) };
}

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

describe('SeqcastClient connection', () => {
  it('connects with the token and goes connected', async () => {
    const { gateway, client, states } = setup();
    expect(client.state).toBe('idle');
    client.connect();
    expect(client.state).toBe('connecting');
    await settle();
    expect(gateway.connections).toHaveLength(1);
    expect(gateway.last.params).toMatchObject({ url: 'http://gateway.test', token: 'tok' });
    gateway.last.accept();
    expect(client.state).toBe('connected');
    expect(states.map(([s]) => s)).toEqual(['connecting', 'connected']);
    client.connect(); // no-op while connected
    await settle();
    expect(gateway.connections).toHaveLength(1);
  });

  it('retries with exponential backoff and full jitter, then fails after maxRetries', async () => {
    const { gateway, client, states } = setup({
      random: () => 0.999,
      reconnect: { baseDelayMs: 100, maxDelayMs: 1000, maxRetries: 5 },
    });
    const subscription = client.subscribe(ROOM, () => undefined);
    client.connect();
    await settle();
    for (let attempt = 1; attempt <= 5; attempt++) {
      gateway.last.refuse();
      const [state, detail] = states[states.length - 1];
      const ceiling = Math.min(1000, 100 * 2 ** (attempt - 1));
      expect(state).toBe('reconnecting');
      expect(detail).toMatchObject({ attempt, reason: 'websocket error' });
      expect(detail?.delayMs).toBe(Math.floor(0.999 * ceiling));
      // Not a millisecond early.
      await jest.advanceTimersByTimeAsync((detail?.delayMs ?? 0) - 1);
      expect(gateway.connections).toHaveLength(attempt);
      await jest.advanceTimersByTimeAsync(1);
      expect(gateway.connections).toHaveLength(attempt + 1);
      expect(gateway.connections[attempt - 1].closed).toBe(true);
    }
    gateway.last.refuse();
    expect(client.state).toBe('failed');
    expect(states[states.length - 1]).toEqual(['failed', { attempt: 6, reason: 'websocket error' }]);
    await expect(subscription).rejects.toMatchObject({ code: 'connection_failed' });

    // Terminal: nothing more happens by itself...
    await jest.advanceTimersByTimeAsync(60_000);
    expect(gateway.connections).toHaveLength(6);
    // ...until connect() is called again, which starts a fresh series.
    client.connect();
    await settle();
    expect(gateway.connections).toHaveLength(7);
    gateway.last.refuse();
    expect(states[states.length - 1][1]).toMatchObject({ attempt: 1 });
  });

  it('with maxRetries 0 the first failure is final', async () => {
    const { gateway, client } = setup({ reconnect: { maxRetries: 0 } });
    client.connect();
    await settle();
    gateway.last.refuse();
    expect(client.state).toBe('failed');
  });

  it('resets the attempt count after a successful connect', async () => {
    const { gateway, client, states } = setup({ reconnect: { baseDelayMs: 100, maxDelayMs: 1000, maxRetries: 2 } });
    client.connect();
    await settle();
    gateway.last.refuse();
    await jest.advanceTimersByTimeAsync(1000);
    gateway.last.refuse();
    expect(states[states.length - 1][1]).toMatchObject({ attempt: 2 });
    await jest.advanceTimersByTimeAsync(1000);
    gateway.last.accept();
    expect(client.state).toBe('connected');
    gateway.last.drop('ping timeout');
    expect(client.state).toBe('reconnecting');
    expect(states[states.length - 1][1]).toMatchObject({ attempt: 1, reason: 'ping timeout' });
  });

  it('waits longer for the handshake after attempts that timed out (up to 4x), and resets on connect', async () => {
    const { gateway, client } = setup({ reconnect: { baseDelayMs: 100, maxDelayMs: 1000, maxRetries: 10 } });
    const timeouts = () => gateway.connections.map((c) => c.params.socketOptions?.timeout);
    client.connect();
    await settle();
    for (let i = 0; i < 3; i++) {
      gateway.last.refuse('timeout');
      await jest.advanceTimersByTimeAsync(1000);
    }
    // Another kind of failure starts over: only a queue of handshakes deserves the longer wait.
    gateway.last.refuse('websocket error');
    await jest.advanceTimersByTimeAsync(1000);
    gateway.last.refuse('timeout');
    await jest.advanceTimersByTimeAsync(1000);
    gateway.last.accept();
    gateway.last.drop('ping timeout');
    await jest.advanceTimersByTimeAsync(1000);
    expect(timeouts()).toEqual([20_000, 40_000, 80_000, 80_000, 20_000, 40_000, 20_000]);
  });

  it('scales the connect timeout the app set', async () => {
    const { gateway, client } = setup({
      socketOptions: { timeout: 5_000 },
      reconnect: { baseDelayMs: 100, maxDelayMs: 1000, maxRetries: 10 },
    });
    client.connect();
    await settle();
    gateway.last.refuse('timeout');
    await jest.advanceTimersByTimeAsync(1000);
    expect(gateway.connections.map((c) => c.params.socketOptions?.timeout)).toEqual([5_000, 10_000]);
  });

  it('re-fetches the token on every attempt and reports unauthorized', async () => {
    let n = 0;
    const token = jest.fn(async () => `tok-${++n}`);
    const { gateway, client, errors } = setup({ token, reconnect: { baseDelayMs: 10, maxDelayMs: 10 } });
    client.connect();
    await settle();
    expect(gateway.last.params.token).toBe('tok-1');
    gateway.last.refuse('unauthorized');
    expect(errors.map((e) => e.code)).toEqual(['unauthorized']);
    expect(client.state).toBe('reconnecting');
    await jest.advanceTimersByTimeAsync(10);
    expect(gateway.last.params.token).toBe('tok-2');
    expect(token).toHaveBeenCalledTimes(2);
  });

  it('counts a throwing token function as a failed attempt', async () => {
    const { gateway, client, errors } = setup({
      token: () => {
        throw new Error('idp down');
      },
      reconnect: { maxRetries: 1, baseDelayMs: 10, maxDelayMs: 10 },
    });
    client.connect();
    await settle();
    expect(gateway.connections).toHaveLength(0);
    expect(client.state).toBe('reconnecting');
    expect(errors[0]).toMatchObject({ code: 'token_error', message: expect.stringContaining('idp down') });
    await jest.advanceTimersByTimeAsync(10);
    expect(client.state).toBe('failed');
  });

  it('on server_restart keeps the connection and its delivery until the server closes it, then reconnects at once', async () => {
    const { gateway, client, states, seqs } = await subscribed({ reconnect: { maxRetries: 0 } });
    const draining = gateway.last;
    draining.send(ROOM, chain(ROOM, [11], 10));
    const statesBefore = states.length;
    draining.restart(4000);
    // Nothing changes for the app: same connection, still connected, still delivering and acking.
    expect(draining.closed).toBe(false);
    expect(client.state).toBe('connected');
    expect(states).toHaveLength(statesBefore);
    await jest.advanceTimersByTimeAsync(3000);
    draining.send(ROOM, chain(ROOM, [12, 13], 11));
    await jest.advanceTimersByTimeAsync(100);
    expect(draining.acks[draining.acks.length - 1]).toEqual({ roomId: ROOM, seq: 13 });
    expect(gateway.connections).toHaveLength(1);

    // The gateway's turn for us comes: it disconnects, and the next attempt starts right away.
    draining.drop('io server disconnect');
    expect(states[states.length - 1]).toEqual(['reconnecting', { attempt: 0, delayMs: 0, reason: 'server_restart' }]);
    await settle();
    expect(gateway.connections).toHaveLength(2);
    gateway.last.accept();
    await settle();
    expect(gateway.last.subscribes[0].request).toEqual({ roomId: ROOM, afterSeq: 13, epoch: 'e1' });
    gateway.last.answer({ headSeq: 14 });
    gateway.last.send(ROOM, chain(ROOM, [14], 13));
    // maxRetries 0, yet the restart did not make the client fail.
    expect(client.state).toBe('connected');
    expect(seqs()).toEqual([11, 12, 13, 14]);
    // The fallback was disarmed with the old connection: nothing else happens later.
    await jest.advanceTimersByTimeAsync(60_000);
    expect(gateway.connections).toHaveLength(2);
    expect(gateway.last.closed).toBe(false);
  });

  it('after server_restart also reconnects at once when the connection just closes under it', async () => {
    const { gateway, states } = await subscribed({ reconnect: { baseDelayMs: 10_000, maxDelayMs: 10_000 } });
    gateway.last.restart(500);
    gateway.last.drop('transport close');
    expect(states[states.length - 1]).toEqual(['reconnecting', { attempt: 0, delayMs: 0, reason: 'server_restart' }]);
    await settle();
    expect(gateway.connections).toHaveLength(2);
  });

  it('without server_restart an io server disconnect is an ordinary failure with backoff', async () => {
    const { gateway, states } = await subscribed({
      random: () => 0.5,
      reconnect: { baseDelayMs: 1000, maxDelayMs: 1000 },
    });
    gateway.last.drop('io server disconnect');
    expect(states[states.length - 1]).toEqual([
      'reconnecting',
      { attempt: 1, delayMs: 500, reason: 'io server disconnect' },
    ]);
    await settle();
    expect(gateway.connections).toHaveLength(1);
  });

  it('replaces a connection the draining gateway has not closed by reconnectInMs + 2 s', async () => {
    const { gateway, client, states, seqs } = await subscribed({ reconnect: { maxRetries: 0 } });
    const draining = gateway.last;
    draining.restart(1000);
    await jest.advanceTimersByTimeAsync(1000 + SERVER_RESTART_FALLBACK_MS - 1);
    expect(draining.closed).toBe(false);
    expect(client.state).toBe('connected');
    draining.send(ROOM, chain(ROOM, [11], 10));
    await jest.advanceTimersByTimeAsync(1);
    expect(draining.closed).toBe(true);
    expect(states[states.length - 1]).toEqual(['reconnecting', { attempt: 0, delayMs: 0, reason: 'server_restart' }]);
    // (A 0 ms timer set from inside a fake-timer callback is due 1 ms later.)
    await jest.advanceTimersByTimeAsync(1);
    expect(gateway.connections).toHaveLength(2);
    // The old connection is gone for good: its late frames and its close change nothing.
    draining.send(ROOM, chain(ROOM, [12], 11));
    draining.drop('io server disconnect');
    gateway.last.accept();
    await settle();
    expect(gateway.last.subscribes[0].request).toEqual({ roomId: ROOM, afterSeq: 11, epoch: 'e1' });
    expect(seqs()).toEqual([11]);
    expect(gateway.connections).toHaveLength(2);
  });

  it('a later server_restart on the same connection moves the fallback; a bad hint counts as 0', async () => {
    const { gateway } = await subscribed();
    const draining = gateway.last;
    draining.restart(Number.NaN);
    await jest.advanceTimersByTimeAsync(SERVER_RESTART_FALLBACK_MS - 500);
    draining.restart(3000);
    await jest.advanceTimersByTimeAsync(3000 + SERVER_RESTART_FALLBACK_MS - 1);
    expect(draining.closed).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    expect(draining.closed).toBe(true);
  });

  it('goes through the normal backoff when the reconnect after server_restart is refused with server_draining', async () => {
    const { gateway, client, states } = await subscribed({
      random: () => 0.5,
      reconnect: { baseDelayMs: 400, maxDelayMs: 10_000, maxRetries: 3 },
    });
    gateway.last.restart(0);
    gateway.last.drop('io server disconnect');
    await settle();
    expect(gateway.connections).toHaveLength(2);
    // The balancer sent us back to the draining instance once.
    gateway.last.refuse('server_draining');
    expect(states[states.length - 1]).toEqual([
      'reconnecting',
      { attempt: 1, delayMs: 200, reason: 'server_draining' },
    ]);
    await jest.advanceTimersByTimeAsync(199);
    expect(gateway.connections).toHaveLength(2);
    await jest.advanceTimersByTimeAsync(1);
    expect(gateway.connections).toHaveLength(3);
    gateway.last.refuse('server_draining');
    expect(states[states.length - 1]).toEqual([
      'reconnecting',
      { attempt: 2, delayMs: 400, reason: 'server_draining' },
    ]);
    await jest.advanceTimersByTimeAsync(400);
    gateway.last.accept();
    expect(client.state).toBe('connected');
    await settle();
    expect(gateway.last.subscribes[0].request).toEqual({ roomId: ROOM, afterSeq: 10, epoch: 'e1' });
  });

  it('retries after the retryAfterMs of server_busy (plus jitter), without counting it towards maxRetries', async () => {
    const { gateway, client, states } = await subscribed({
      random: () => 0.5,
      reconnect: { baseDelayMs: 400, maxDelayMs: 10_000, maxRetries: 1 },
    });
    gateway.last.restart(0);
    gateway.last.drop('io server disconnect');
    await settle();
    // More refusals than maxRetries allows failures: a busy gateway is an answer, not a failure.
    for (let refusal = 0; refusal < 3; refusal++) {
      const before = gateway.connections.length;
      gateway.last.refuse('server_busy', { retryAfterMs: 1_000 });
      // 1,000 ms + 0.5 of the 25 % jitter.
      expect(states[states.length - 1]).toEqual(['reconnecting', { attempt: 0, delayMs: 1_125, reason: 'server_busy' }]);
      await jest.advanceTimersByTimeAsync(1_124);
      expect(gateway.connections).toHaveLength(before);
      await jest.advanceTimersByTimeAsync(1);
      expect(gateway.connections).toHaveLength(before + 1);
    }
    gateway.last.accept();
    expect(client.state).toBe('connected');
    await settle();
    expect(gateway.last.subscribes[0].request).toEqual({ roomId: ROOM, afterSeq: 10, epoch: 'e1' });
  });

  it('falls back to its backoff when server_busy carries no usable retryAfterMs', async () => {
    const { gateway, states } = await subscribed({
      random: () => 0.5,
      reconnect: { baseDelayMs: 400, maxDelayMs: 10_000, maxRetries: 3 },
    });
    gateway.last.drop('transport close');
    await jest.advanceTimersByTimeAsync(200);
    gateway.last.refuse('server_busy', { retryAfterMs: 'soon' });
    expect(states[states.length - 1]).toEqual(['reconnecting', { attempt: 1, delayMs: 400, reason: 'server_busy' }]);
    await jest.advanceTimersByTimeAsync(400);
    gateway.last.refuse('server_busy');
    expect(states[states.length - 1]).toEqual(['reconnecting', { attempt: 1, delayMs: 400, reason: 'server_busy' }]);
  });

  it('on slow_consumer reconnects promptly and resumes from the cursor', async () => {
    const { gateway, client, seqs } = await subscribed();
    gateway.last.send(ROOM, chain(ROOM, [11, 12], 10));
    gateway.last.slowConsumer();
    expect(client.state).toBe('reconnecting');
    await settle();
    expect(gateway.connections).toHaveLength(2);
    gateway.last.accept();
    await settle();
    expect(gateway.last.subscribes[0].request).toEqual({ roomId: ROOM, afterSeq: 12, epoch: 'e1' });
    gateway.last.answer({ headSeq: 14 });
    gateway.last.send(ROOM, chain(ROOM, [13, 14], 12));
    expect(seqs()).toEqual([11, 12, 13, 14]);
  });

  it('ignores everything from a connection it has replaced', async () => {
    const { gateway, client, seqs } = await subscribed({ reconnect: { baseDelayMs: 10, maxDelayMs: 10 } });
    const old = gateway.last;
    old.drop();
    await jest.advanceTimersByTimeAsync(10);
    old.send(ROOM, chain(ROOM, [11], 10));
    old.accept();
    old.drop();
    expect(seqs()).toEqual([]);
    expect(client.state).toBe('reconnecting');
    expect(gateway.connections).toHaveLength(2);
  });

  it('close() disconnects, stops reconnecting and rejects pending subscribes', async () => {
    const { gateway, client, states } = setup();
    client.connect();
    await settle();
    gateway.last.accept();
    const pending = client.subscribe(ROOM, () => undefined);
    client.close();
    await expect(pending).rejects.toMatchObject({ code: 'closed' });
    expect(gateway.last.closed).toBe(true);
    expect(client.state).toBe('closed');
    await jest.advanceTimersByTimeAsync(60_000);
    expect(gateway.connections).toHaveLength(1);
    expect(states[states.length - 1][0]).toBe('closed');
  });

  it('rejects bad options with a clear message', () => {
    const make = (options: Partial<SeqcastClientOptions>) => () =>
      new SeqcastClient({ gatewayUrl: 'http://g', ingestUrl: 'http://i', token: 't', ...options });
    expect(make({ gatewayUrl: '' })).toThrow(/gatewayUrl must be a non-empty URL string/);
    expect(make({ reconnect: { maxRetries: -1 } })).toThrow(/reconnect.maxRetries must be a number >= 0/);
    expect(make({ publishRetry: { maxAttempts: 0 } })).toThrow(/publishRetry.maxAttempts must be a number >= 1/);
    expect(make({ token: 42 as unknown as string })).toThrow(SeqcastError);
  });
});

describe('SeqcastClient subscriptions', () => {
  it('subscribes "from now on" when there is no cursor, and takes the cursor from the ack', async () => {
    const { gateway, store } = await subscribed({}, { headSeq: 10, epoch: 'e1' });
    expect(gateway.last.subscribes[0].request).toEqual({ roomId: ROOM });
    expect(store.get(ROOM)).toEqual({ epoch: 'e1', seq: 10 });
  });

  it('waits for a connection before subscribing', async () => {
    const { gateway, client } = setup();
    let resolved = false;
    const done = client.subscribe(ROOM, () => undefined).then(() => (resolved = true));
    client.connect();
    await settle();
    expect(gateway.last.subscribes).toHaveLength(0);
    gateway.last.accept();
    await settle();
    expect(gateway.last.subscribes).toHaveLength(1);
    expect(resolved).toBe(false);
    gateway.last.answer({ headSeq: -1 });
    await done;
    expect(resolved).toBe(true);
  });

  it('delivers in order and drops duplicates and redeliveries', async () => {
    const { gateway, received, seqs } = await subscribed();
    gateway.last.send(ROOM, chain(ROOM, [11, 12], 10));
    gateway.last.send(ROOM, chain(ROOM, [11, 12], 10)); // redelivery of a whole event
    gateway.last.send(ROOM, chain(ROOM, [12, 15, 20], 11)); // overlap, then new
    gateway.last.send(ROOM, [message(ROOM, 20, 15)]); // duplicate of the last
    gateway.last.send(ROOM, chain(ROOM, [21], 20));
    expect(seqs()).toEqual([11, 12, 15, 20, 21]);
    expect(received[0]).toMatchObject({ roomId: ROOM, payload: { n: 11 }, clientMsgId: 'c-11' });
  });

  it("accepts the room's first message (prevSeq null) after an empty head", async () => {
    const { gateway, seqs } = await subscribed({}, { headSeq: -1 });
    gateway.last.send(ROOM, chain(ROOM, [0, 3], null));
    expect(seqs()).toEqual([0, 3]);
  });

  it('persists the cursor as messages are delivered, after the handler ran', async () => {
    const stored: Array<number | undefined> = [];
    const { gateway, store, client } = await subscribed();
    client.subscribe(ROOM, () => stored.push(store.get(ROOM)?.seq));
    gateway.last.send(ROOM, chain(ROOM, [11, 12], 10));
    expect(stored).toEqual([10, 11]);
    expect(store.get(ROOM)).toEqual({ epoch: 'e1', seq: 12 });
  });

  it('resumes from a stored cursor, in a new client too', async () => {
    const store = new MemoryCursorStore();
    store.set(ROOM, { epoch: 'e1', seq: 41 });
    const { gateway, seqs } = await subscribed({ cursorStore: store }, { headSeq: 43 });
    expect(gateway.last.subscribes[0].request).toEqual({ roomId: ROOM, afterSeq: 41, epoch: 'e1' });
    gateway.last.send(ROOM, chain(ROOM, [40, 41, 42, 43], 39));
    expect(seqs()).toEqual([42, 43]);
    expect(store.get(ROOM)).toEqual({ epoch: 'e1', seq: 43 });
  });

  it('resubscribes every room with afterSeq = its cursor after a reconnect', async () => {
    const { gateway, client, seqs } = await subscribed({ reconnect: { baseDelayMs: 10, maxDelayMs: 10 } });
    const other: number[] = [];
    const second = client.subscribe('r2', (m) => other.push(m.seq));
    await settle();
    gateway.last.answer({ headSeq: -1 }, 'r2');
    await second;
    gateway.last.send(ROOM, chain(ROOM, [11, 12], 10));
    gateway.last.drop();
    await jest.advanceTimersByTimeAsync(10);
    gateway.last.accept();
    await settle();
    expect(gateway.last.subscribes.map((s) => s.request)).toEqual([
      { roomId: ROOM, afterSeq: 12, epoch: 'e1' },
      { roomId: 'r2', afterSeq: -1, epoch: 'e1' },
    ]);
    // Messages before the ack belong to nothing we asked for on this connection.
    gateway.last.send(ROOM, chain(ROOM, [13], 12));
    expect(seqs()).toEqual([11, 12]);
    gateway.last.answer({ headSeq: 14 }, ROOM);
    gateway.last.answer({ headSeq: 0 }, 'r2');
    gateway.last.send(ROOM, chain(ROOM, [11, 12, 13, 14], 10)); // the replay overlaps what we hold
    gateway.last.send('r2', chain('r2', [0], null));
    expect(seqs()).toEqual([11, 12, 13, 14]);
    expect(other).toEqual([0]);
  });

  it('detects a gap by prevSeq, stops the room and heals it by resubscribing from the cursor', async () => {
    const { gateway, client, seqs } = await subscribed();
    const gaps: unknown[] = [];
    client.on('gap', (roomId, info) => gaps.push({ roomId, ...info }));
    gateway.last.send(ROOM, chain(ROOM, [11], 10));
    gateway.last.send(ROOM, chain(ROOM, [15, 16], 14)); // 14 was never seen
    expect(gaps).toEqual([{ roomId: ROOM, expectedPrevSeq: 11, gotPrevSeq: 14 }]);
    await settle();
    const log = gateway.last.log.slice(1);
    expect(log).toEqual([
      `unsubscribe ${ROOM}`,
      `subscribe ${JSON.stringify({ roomId: ROOM, afterSeq: 11, epoch: 'e1' })}`,
    ]);
    // Live messages before the resubscribe's ack are ignored.
    gateway.last.send(ROOM, chain(ROOM, [17], 16));
    expect(seqs()).toEqual([11]);
    gateway.last.answer({ headSeq: 17 });
    gateway.last.send(ROOM, chain(ROOM, [14, 15, 16, 17], 11));
    expect(seqs()).toEqual([11, 14, 15, 16, 17]);
  });

  it('treats a message of another epoch as a gap', async () => {
    const { gateway, client } = await subscribed();
    const gaps: number[] = [];
    client.on('gap', (_room, info) => gaps.push(info.expectedPrevSeq));
    gateway.last.send(ROOM, [message(ROOM, 11, 10, 'e2')]);
    expect(gaps).toEqual([10]);
  });

  it('delivers on after repeated heals cannot fill a gap, and says so', async () => {
    const { gateway, client, errors, seqs } = await subscribed();
    let gaps = 0;
    client.on('gap', () => gaps++);
    gateway.last.send(ROOM, chain(ROOM, [11], 10));
    for (let i = 0; i < 3; i++) {
      gateway.last.send(ROOM, chain(ROOM, [15], 14));
      await settle();
      gateway.last.answer({ headSeq: 15 });
    }
    expect(gaps).toBe(3);
    expect(seqs()).toEqual([11]);
    gateway.last.send(ROOM, chain(ROOM, [15, 16], 14));
    expect(seqs()).toEqual([11, 15, 16]);
    expect(errors.map((e) => e.code)).toEqual(['protocol']);
  });

  it('on reset drops the cursor, emits reset and continues in the new epoch', async () => {
    const { gateway, client, store, seqs } = await subscribed({ reconnect: { baseDelayMs: 10, maxDelayMs: 10 } });
    const resets: string[] = [];
    client.on('reset', (roomId) => resets.push(roomId));
    gateway.last.send(ROOM, chain(ROOM, [11], 10));
    gateway.last.drop();
    await jest.advanceTimersByTimeAsync(10);
    gateway.last.accept();
    await settle();
    expect(gateway.last.subscribes[0].request).toEqual({ roomId: ROOM, afterSeq: 11, epoch: 'e1' });
    gateway.last.answer({ ok: true, roomId: ROOM, epoch: 'e2', headSeq: 3, reset: true });
    expect(resets).toEqual([ROOM]);
    expect(store.get(ROOM)).toBeUndefined();
    // The new epoch's numbering starts again: low seqs are new messages, not duplicates.
    gateway.last.send(ROOM, chain(ROOM, [0, 3], null, 'e2'));
    expect(seqs()).toEqual([11, 0, 3]);
    expect(store.get(ROOM)).toEqual({ epoch: 'e2', seq: 3 });
  });

  it('reports truncated history as an informational error and continues', async () => {
    const store = new MemoryCursorStore();
    store.set(ROOM, { epoch: 'e1', seq: 5 });
    const { gateway, errors, seqs } = await subscribed({ cursorStore: store }, {
      headSeq: 120,
      truncated: true,
      resumeAfterSeq: 99,
    } as { headSeq: number });
    expect(errors.map((e) => e.code)).toEqual(['truncated']);
    expect(errors[0].message).toContain('after seq 99');
    gateway.last.send(ROOM, chain(ROOM, [100, 120], 97));
    expect(seqs()).toEqual([100, 120]);
  });

  it('rejects subscribe on forbidden and forgets the room', async () => {
    const { gateway, client } = setup();
    client.connect();
    await settle();
    gateway.last.accept();
    const done = client.subscribe('secret', () => undefined);
    await settle();
    gateway.last.answer({ ok: false, error: { code: 'forbidden', message: 'not yours' } });
    const error = await done.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SeqcastError);
    expect(error).toMatchObject({ code: 'forbidden', message: expect.stringContaining('not yours') });
    gateway.last.send('secret', chain('secret', [1], null));
    gateway.last.drop();
    await jest.advanceTimersByTimeAsync(1000);
    gateway.last.accept();
    await settle();
    expect(gateway.last.subscribes).toHaveLength(0);
  });

  it('retries the subscribe with backoff when the gateway answers unavailable', async () => {
    const { gateway, client, errors } = setup({
      random: () => 0.999,
      reconnect: { baseDelayMs: 100, maxDelayMs: 1000 },
    });
    client.connect();
    await settle();
    gateway.last.accept();
    const done = client.subscribe(ROOM, () => undefined);
    await settle();
    gateway.last.answer({ ok: false, error: { code: 'unavailable', message: 'db down' } });
    expect(errors.map((e) => e.code)).toEqual(['unavailable']);
    await jest.advanceTimersByTimeAsync(98);
    expect(gateway.last.subscribes).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(gateway.last.subscribes).toHaveLength(2);
    gateway.last.answer({ headSeq: 3 });
    await expect(done).resolves.toBeUndefined();
  });

  it('reconnects and resubscribes when a subscribe is not acknowledged within subscribeTimeoutMs', async () => {
    const { gateway, client, errors, states } = setup({
      subscribeTimeoutMs: 5000,
      reconnect: { baseDelayMs: 100, maxDelayMs: 100 },
    });
    client.connect();
    await settle();
    gateway.last.accept();
    const done = client.subscribe(ROOM, () => undefined);
    await settle();
    const silent = gateway.last;
    await jest.advanceTimersByTimeAsync(4999);
    expect(errors).toEqual([]);
    expect(silent.closed).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    expect(errors.map((e) => e.code)).toEqual(['timeout']);
    expect(silent.closed).toBe(true);
    expect(states[states.length - 1]).toEqual([
      'reconnecting',
      expect.objectContaining({ attempt: 1, reason: 'subscribe_timeout' }),
    ]);
    // A late ack on the replaced connection counts for nothing.
    silent.answer({ headSeq: 1 });
    await jest.advanceTimersByTimeAsync(100);
    gateway.last.accept();
    await settle();
    expect(gateway.last).not.toBe(silent);
    expect(gateway.last.subscribes.map((s) => s.request)).toEqual([{ roomId: ROOM }]);
    gateway.last.answer({ headSeq: 3 });
    await expect(done).resolves.toBeUndefined();
    // The answered subscribe's timer is gone: nothing fires later.
    await jest.advanceTimersByTimeAsync(60_000);
    expect(errors.map((e) => e.code)).toEqual(['timeout']);
    expect(client.state).toBe('connected');
  });

  it('rejects a subscribeTimeoutMs below 1', () => {
    expect(
      () => new SeqcastClient({ gatewayUrl: 'http://g', ingestUrl: 'http://i', token: 't', subscribeTimeoutMs: 0 }),
    ).toThrow(/subscribeTimeoutMs must be a number >= 1/);
  });

  it("types payloads with the client's type parameter", async () => {
    type Chat = { text: string };
    const gateway = new FakeGateway();
    const client = new SeqcastClient<Chat>(
      { gatewayUrl: 'http://g', ingestUrl: 'http://i', token: 't' },
      { transportFactory: gateway.factory },
    );
    const texts: string[] = [];
    client.connect();
    await settle();
    gateway.last.accept();
    const done = client.subscribe(ROOM, (m) => texts.push(m.payload.text));
    await settle();
    gateway.last.answer({ headSeq: 0 });
    await done;
    gateway.last.send(ROOM, [{ ...message(ROOM, 1, 0), payload: { text: 'hi' } }]);
    expect(texts).toEqual(['hi']);
    // @ts-expect-error a payload that is not a Chat does not compile
    void client.publish(ROOM, { txt: 'typo' }).catch(() => undefined);
    client.close();
  });

  it('keeps delivering when a handler throws, and reports it', async () => {
    const { gateway, client, errors, store } = await subscribed();
    const seen: number[] = [];
    client.subscribe(ROOM, (m) => {
      seen.push(m.seq);
      if (m.seq === 11) throw new Error('boom');
    });
    gateway.last.send(ROOM, chain(ROOM, [11, 12], 10));
    expect(seen).toEqual([11, 12]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'handler_error', message: expect.stringContaining('boom') });
    expect(store.get(ROOM)?.seq).toBe(12);
  });

  it('reports a failing cursor store but keeps delivering from memory', async () => {
    const failing: CursorStore = {
      get: async () => undefined,
      set: async () => {
        throw new Error('quota exceeded');
      },
      delete: () => undefined,
    };
    const { gateway, errors, seqs } = await subscribed({ cursorStore: failing });
    gateway.last.send(ROOM, chain(ROOM, [11, 12], 10));
    await settle();
    expect(seqs()).toEqual([11, 12]);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((e) => e.code === 'cursor_store')).toBe(true);
  });

  it('unsubscribe stops delivery at once and resolves on the ack', async () => {
    const { gateway, client, seqs } = await subscribed();
    gateway.last.send(ROOM, chain(ROOM, [11], 10));
    let resolved = false;
    const done = client.unsubscribe(ROOM).then(() => (resolved = true));
    gateway.last.send(ROOM, chain(ROOM, [12], 11));
    expect(seqs()).toEqual([11]);
    await settle();
    expect(resolved).toBe(false);
    expect(gateway.last.unsubscribes.map((u) => u.request)).toEqual([{ roomId: ROOM }]);
    gateway.last.unsubscribes[0].ack({ ok: true, roomId: ROOM });
    await done;
    expect(resolved).toBe(true);
  });

  it('an unsubscribe pending when the connection drops resolves', async () => {
    const { gateway, client } = await subscribed();
    const done = client.unsubscribe(ROOM);
    gateway.last.drop();
    await expect(done).resolves.toBeUndefined();
  });
});

describe('SeqcastClient acks', () => {
  it('coalesces acks per room and makes them cumulative', async () => {
    const { gateway } = await subscribed({ ackDelayMs: 100 });
    const conn = gateway.last;
    conn.send(ROOM, chain(ROOM, [11, 12], 10));
    await jest.advanceTimersByTimeAsync(50);
    conn.send(ROOM, chain(ROOM, [13], 12));
    expect(conn.acks).toEqual([]);
    await jest.advanceTimersByTimeAsync(50);
    expect(conn.acks).toEqual([{ roomId: ROOM, seq: 13 }]);
    // Duplicates deliver nothing, so there is nothing new to ack.
    conn.send(ROOM, chain(ROOM, [12, 13], 11));
    await jest.advanceTimersByTimeAsync(500);
    expect(conn.acks).toHaveLength(1);
    conn.send(ROOM, chain(ROOM, [14], 13));
    await jest.advanceTimersByTimeAsync(100);
    expect(conn.acks).toEqual([
      { roomId: ROOM, seq: 13 },
      { roomId: ROOM, seq: 14 },
    ]);
  });

  it('sends a pending ack before unsubscribing', async () => {
    const { gateway, client } = await subscribed({ ackDelayMs: 100 });
    gateway.last.send(ROOM, chain(ROOM, [11], 10));
    void client.unsubscribe(ROOM);
    expect(gateway.last.log.slice(-2)).toEqual([`ack ${ROOM} 11`, `unsubscribe ${ROOM}`]);
  });

  it('does not ack the head it was told about, only delivered messages', async () => {
    const { gateway } = await subscribed({ ackDelayMs: 10 });
    await jest.advanceTimersByTimeAsync(100);
    expect(gateway.last.acks).toEqual([]);
  });
});

describe('SeqcastClient token lifetime', () => {
  it('calls getToken for connect, for a refresh on token_expiring, and for the reconnect', async () => {
    let n = 0;
    const getToken = jest.fn(async () => `tok-${++n}`);
    const { gateway, client, errors } = setup({ token: undefined, getToken });
    client.connect();
    await settle();
    expect(gateway.last.params.token).toBe('tok-1');
    gateway.last.accept();

    gateway.last.tokenExpiring();
    await settle();
    expect(gateway.last.refreshes.map((r) => r.request)).toEqual([{ token: 'tok-2' }]);
    gateway.last.refreshes[0].ack({ ok: true, expiresAt: '2026-11-28T10:00:00.000Z', revokedRooms: [] });
    expect(errors).toEqual([]);

    gateway.last.drop('transport close');
    await jest.advanceTimersByTimeAsync(10_000);
    expect(gateway.connections).toHaveLength(2);
    expect(gateway.last.params.token).toBe('tok-3');
    expect(getToken).toHaveBeenCalledTimes(3);
  });

  it('keeps the token function form of `token` working the same way', async () => {
    const { gateway, client } = setup({ token: () => 'fn-token' });
    client.connect();
    await settle();
    gateway.last.accept();
    gateway.last.tokenExpiring();
    await settle();
    expect(gateway.last.refreshes.map((r) => r.request)).toEqual([{ token: 'fn-token' }]);
  });

  it('does not refresh a fixed token, and reconnects at once after token_expired', async () => {
    const { gateway, client, states } = setup({ token: 'static' });
    client.connect();
    await settle();
    gateway.last.accept();
    gateway.last.tokenExpiring();
    await settle();
    expect(gateway.last.refreshes).toEqual([]);

    gateway.last.tokenExpired();
    gateway.last.drop('io server disconnect');
    expect(states[states.length - 1]).toEqual(['reconnecting', { attempt: 0, delayMs: 0, reason: 'token_expired' }]);
    await settle();
    await jest.advanceTimersByTimeAsync(0);
    expect(gateway.connections).toHaveLength(2);
  });

  it('reports a refused refresh (the gateway then ends the socket at exp)', async () => {
    const { gateway, client, errors } = setup({ getToken: () => 'other-users-token' });
    client.connect();
    await settle();
    gateway.last.accept();
    gateway.last.tokenExpiring();
    await settle();
    gateway.last.refreshes[0].ack({
      ok: false,
      error: { code: 'unauthorized', message: 'the new token is for another user' },
    });
    expect(errors.map((e) => [e.code, e.message])).toEqual([
      ['unauthorized', 'token refresh refused: the new token is for another user'],
    ]);
  });

  it('reports a failing getToken during a refresh without dropping the connection', async () => {
    let calls = 0;
    const { gateway, client, errors } = setup({
      getToken: () => {
        if (++calls > 1) throw new Error('identity provider down');
        return 'tok';
      },
    });
    client.connect();
    await settle();
    gateway.last.accept();
    gateway.last.tokenExpiring();
    await settle();
    expect(errors.map((e) => e.code)).toEqual(['token_error']);
    expect(client.state).toBe('connected');
    expect(gateway.last.refreshes).toEqual([]);
  });

  it('drops a room the gateway unsubscribed (access_revoked) and does not resubscribe it', async () => {
    const { gateway, client, errors } = await subscribed({ getToken: () => 'tok' });
    gateway.last.revoke(ROOM);
    expect(errors.map((e) => [e.code, e.message])).toEqual([
      ['forbidden', `${ROOM}: subscription ended by the gateway (access_revoked)`],
    ]);
    gateway.last.drop('transport close');
    await jest.advanceTimersByTimeAsync(10_000);
    gateway.last.accept();
    await settle();
    expect(gateway.last.subscribes).toEqual([]);
    void client;
  });

  it('requires getToken or token', () => {
    expect(() => new SeqcastClient({ gatewayUrl: 'http://g.test', ingestUrl: 'http://i.test' })).toThrow(
      /getToken .*is required/,
    );
    expect(
      () => new SeqcastClient({ gatewayUrl: 'http://g.test', ingestUrl: 'http://i.test', getToken: 'x' as never }),
    ).toThrow('getToken must be a function');
  });
});
