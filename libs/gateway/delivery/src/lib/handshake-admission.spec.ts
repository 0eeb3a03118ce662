import { EventEmitter } from 'node:events';
import {
  type AdmissibleSocket,
  HandshakeAdmission,
  IDLE_AFTER_CONNECT_MS,
  MAX_RETRY_AFTER_MS,
  MAX_SLOT_MS,
  MIN_RETRY_AFTER_MS,
} from './handshake-admission';

class FakeConnection extends EventEmitter {
  closed = false;
  close(): void {
    this.closed = true;
    this.emit('close');
  }
}

function socket(): AdmissibleSocket & { conn: FakeConnection } {
  return { conn: new FakeConnection() };
}

describe('HandshakeAdmission', () => {
  let clock = 0;
  beforeEach(() => {
    jest.useFakeTimers();
    clock = 0;
  });
  afterEach(() => jest.useRealTimers());

  function admitting(maxInFlight: number) {
    const admission = new HandshakeAdmission({ maxInFlight }, () => clock);
    const refusals: number[] = [];
    const middleware = admission.middleware((retryAfterMs) => refusals.push(retryAfterMs));
    const attempt = (s = socket()) => {
      let result: Error | undefined;
      let called = false;
      middleware(s, (error) => {
        called = true;
        result = error;
      });
      if (!called) throw new Error('the middleware did not call next');
      return { socket: s, error: result };
    };
    return { admission, attempt, refusals };
  }

  it('admits up to the bound and refuses the next with server_busy and a retry hint, then closes it', () => {
    const { admission, attempt, refusals } = admitting(2);
    expect(attempt().error).toBeUndefined();
    expect(attempt().error).toBeUndefined();
    const refused = attempt();
    expect(refused.error?.message).toBe('server_busy');
    const { retryAfterMs } = (refused.error as Error & { data: { retryAfterMs: number } }).data;
    expect(retryAfterMs).toBeGreaterThanOrEqual(MIN_RETRY_AFTER_MS);
    expect(refusals).toEqual([retryAfterMs]);
    expect(admission.inFlight).toBe(2);
    expect(refused.socket.conn.closed).toBe(false);
    jest.runOnlyPendingTimers();
    expect(refused.socket.conn.closed).toBe(true);
  });

  it('admits everything with a bound of 0', () => {
    const { admission, attempt } = admitting(0);
    for (let i = 0; i < 100; i++) expect(attempt().error).toBeUndefined();
    expect(admission.inFlight).toBe(0);
  });

  it('frees a slot when the first subscribe is answered, and when the connection closes', () => {
    const { admission, attempt } = admitting(1);
    const first = attempt();
    admission.connected(first.socket);
    admission.subscribing(first.socket);
    expect(attempt().error?.message).toBe('server_busy');
    admission.release(first.socket);
    const second = attempt();
    expect(second.error).toBeUndefined();
    second.socket.conn.close();
    expect(admission.inFlight).toBe(0);
    expect(attempt().error).toBeUndefined();
  });

  it('frees the slot of a connection that does not subscribe soon after its connect', () => {
    const { admission, attempt } = admitting(1);
    const idle = attempt();
    admission.connected(idle.socket);
    jest.advanceTimersByTime(IDLE_AFTER_CONNECT_MS - 1);
    expect(admission.inFlight).toBe(1);
    jest.advanceTimersByTime(1);
    expect(admission.inFlight).toBe(0);
  });

  it('holds a subscribing handshake until it is answered, but never past MAX_SLOT_MS', () => {
    const { admission, attempt } = admitting(1);
    const slow = attempt();
    admission.connected(slow.socket);
    admission.subscribing(slow.socket);
    jest.advanceTimersByTime(IDLE_AFTER_CONNECT_MS);
    expect(admission.inFlight).toBe(1);
    jest.advanceTimersByTime(MAX_SLOT_MS - IDLE_AFTER_CONNECT_MS);
    expect(admission.inFlight).toBe(0);
  });

  it('hands the refused successive retry moments at the pace handshakes complete, up to the cap', () => {
    const { admission, attempt } = admitting(2);
    // Handshakes taking 400 ms: a slot frees every 200 ms at the bound of 2.
    for (let i = 0; i < 200; i++) {
      const s = attempt().socket;
      clock += 400;
      admission.release(s);
      clock -= 400;
    }
    attempt();
    attempt();
    const hints = Array.from({ length: 5 }, () => (attempt().error as Error & { data: { retryAfterMs: number } }).data.retryAfterMs);
    for (let i = 1; i < hints.length; i++) expect(hints[i] - hints[i - 1]).toBeGreaterThanOrEqual(190);
    expect(hints[0]).toBeGreaterThanOrEqual(190);
    for (let i = 0; i < 500; i++) attempt();
    expect((attempt().error as Error & { data: { retryAfterMs: number } }).data.retryAfterMs).toBe(MAX_RETRY_AFTER_MS);
    // Time passes: the queue drains with it.
    clock += MAX_RETRY_AFTER_MS;
    const later = (attempt().error as Error & { data: { retryAfterMs: number } }).data.retryAfterMs;
    expect(later).toBeLessThan(MAX_RETRY_AFTER_MS);
  });
});
