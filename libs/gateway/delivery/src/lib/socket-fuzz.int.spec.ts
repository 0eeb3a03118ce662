/**
 * Property-based fuzzing (fast-check) of the gateway's socket surface against the real gateway
 * (real broker and database): random and mutated events through a real socket.io-client (every
 * answer has the documented ack shape, the socket stays connected), and raw engine.io/socket.io
 * frames over a plain WebSocket (a malformed frame may close that socket, never the process: a
 * fresh client still connects and subscribes afterwards). Fixed seed in CI; FUZZ_RUNS=100000 (and
 * FUZZ_SEED) for a long run.
 */
import fc from 'fast-check';
import WebSocket from 'ws';
import { GatewayHarness, room } from '../testing';

const FUZZ_RUNS = Number(process.env['FUZZ_RUNS'] ?? 60);
const FUZZ_SEED = Number(process.env['FUZZ_SEED'] ?? 20261206);
const CODES = ['invalid_request', 'unauthorized', 'forbidden', 'unavailable', 'rate_limited', 'limit_exceeded'];

/** What every subscribe/unsubscribe ack must look like (docs/protocol.md). */
function expectAckShape(ack: unknown): void {
  if ((ack as { ok?: unknown }).ok === true) {
    expect(ack).toMatchObject({ ok: true, roomId: expect.any(String) });
    return;
  }
  expect(ack).toEqual({ ok: false, error: { code: expect.any(String), message: expect.any(String) } });
  expect(CODES).toContain((ack as { error: { code: string } }).error.code);
}

describe('gateway socket fuzz (real Kafka and PostgreSQL)', () => {
  let harness: GatewayHarness;
  const prefix = room('fz');

  beforeAll(async () => {
    harness = await GatewayHarness.start();
  });

  afterAll(async () => {
    await harness?.stop();
  });

  const roomId = fc.oneof(
    fc.constantFrom(`${prefix}-a`, `${prefix}-b`, 'other-room', ''),
    fc.string({ maxLength: 140 }),
  );
  const mutatedRequest = fc.record(
    {
      roomId: fc.oneof(roomId, fc.jsonValue({ maxDepth: 2 })),
      afterSeq: fc.oneof(fc.integer({ min: -5, max: 1e6 }), fc.double(), fc.string(), fc.constant(null)),
      epoch: fc.oneof(fc.string({ maxLength: 200 }), fc.integer()),
      seq: fc.oneof(fc.nat(), fc.integer(), fc.string()),
      extra: fc.jsonValue({ maxDepth: 2 }),
    },
    { requiredKeys: [] },
  );
  const payload = fc.oneof(
    mutatedRequest,
    fc.jsonValue({ maxDepth: 4 }),
    fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
  );

  it('answers random and mutated subscribe/unsubscribe/ack events with the documented shapes, and keeps the socket', async () => {
    const { socket } = await harness.client([`${prefix}-*`]);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('subscribe', 'unsubscribe', 'ack', 'messages', 'nope', 'disconnecting'),
        payload,
        fc.boolean(),
        async (event, body, withAck) => {
          const emitter = socket as unknown as {
            emit(event: string, ...args: unknown[]): void;
            timeout(ms: number): { emitWithAck(event: string, ...args: unknown[]): Promise<unknown> };
          };
          if (withAck && (event === 'subscribe' || event === 'unsubscribe')) {
            expectAckShape(await emitter.timeout(10_000).emitWithAck(event, body));
          } else if (event !== 'disconnecting') {
            // Reserved names throw in the client; everything else goes out as is.
            emitter.emit(event, body);
          }
          await harness.barrier(socket);
          expect(socket.connected).toBe(true);
        },
      ),
      { numRuns: FUZZ_RUNS, seed: FUZZ_SEED },
    );
  });

  it('survives raw engine.io/socket.io frames: only the offending socket may close', async () => {
    const token = harness.token([`${prefix}-*`]);
    const url = `${harness.url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`;
    const valid = (id: number) => `42${id}["subscribe",{"roomId":"${prefix}-raw"}]`;
    const frame = fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.string({ maxLength: 80 }).map((tail) => `42${tail}`),
      fc
        .tuple(
          fc.nat({ max: 30 }),
          fc.array(fc.tuple(fc.nat(), fc.string({ minLength: 1, maxLength: 3 })), { maxLength: 4 }),
        )
        .map(([id, edits]) => {
          let text = valid(id);
          for (const [at, insert] of edits) {
            const i = at % (text.length + 1);
            text = text.slice(0, i) + insert + text.slice(i + 1);
          }
          return text;
        }),
      fc.constantFrom(
        '2',
        '3',
        '6',
        '41',
        '40',
        '4',
        '451-["subscribe",{"_placeholder":true,"num":0}]',
        '42["subscribe",{"roomId":"x"},{"_placeholder":true,"num":99}]',
        '43',
        '4' + '['.repeat(5000),
        '42[' + '['.repeat(3000) + ']'.repeat(3000) + ']',
      ),
      fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
    );

    await fc.assert(
      fc.asyncProperty(fc.array(frame, { minLength: 1, maxLength: 5 }), async (frames) => {
        const ws = new WebSocket(url);
        const received: string[] = [];
        const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
        ws.on('message', (data) => received.push(data.toString()));
        ws.on('error', () => undefined);
        await new Promise<void>((resolve, reject) => {
          ws.once('open', () => resolve());
          ws.once('error', reject);
        });
        ws.send(`40${JSON.stringify({ token })}`);
        for (const f of frames) ws.send(f);
        // A known-good request last: its ack (or the close) tells us the server processed the rest.
        ws.send(valid(777));
        const answered = new Promise<void>((resolve) => {
          const check = () => (received.some((m) => m.startsWith('43777')) ? resolve() : undefined);
          ws.on('message', check);
          check();
        });
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([answered, closed, new Promise((r) => (timer = setTimeout(r, 3_000)))]);
        clearTimeout(timer);
        for (const ack of received.filter((m) => /^43\d/.test(m))) {
          const body = JSON.parse(ack.replace(/^43\d+/, '')) as unknown[];
          expectAckShape(body[0]);
        }
        ws.terminate();
      }),
      { numRuns: FUZZ_RUNS, seed: FUZZ_SEED },
    );

    // The process and its other sockets are fine.
    const { socket } = await harness.client([`${prefix}-*`]);
    expect(await harness.subscribe(socket, { roomId: `${prefix}-after` })).toMatchObject({ ok: true });
  });
});
