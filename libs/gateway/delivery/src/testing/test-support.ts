/** Builders and in-memory stand-ins shared by this library's unit tests (never exported). */
import type { Message, MessagesEvent } from '@seqcast/contracts';
import type { MessageHistory } from '@seqcast/persistence';
import type { DeliveryTarget } from '../lib/delivery-session';

export const EPOCH = 'epoch-1';

export function message(roomId: string, seq: number, prevSeq: number | null): Message {
  return {
    roomId,
    seq,
    prevSeq,
    epoch: EPOCH,
    clientMsgId: `c-${seq}`,
    senderId: 'alice',
    payload: { n: seq },
    sentAt: '2025-01-01T00:00:00.000Z',
    sequencedAt: '2025-01-01T00:00:01.000Z',
  };
}

/** A room's chained history at the given (sparse, ascending) seqs. */
export function chain(roomId: string, seqs: number[], prevOfFirst: number | null = null): Message[] {
  return seqs.map((seq, i) => message(roomId, seq, i === 0 ? prevOfFirst : seqs[i - 1]));
}

export class RecordingTarget implements DeliveryTarget {
  readonly events: MessagesEvent[] = [];
  constructor(
    readonly id: string,
    private readonly log?: string[],
  ) {}
  deliver(event: MessagesEvent): void {
    this.events.push(event);
    this.log?.push(`${this.id} messages ${event.messages.map((m) => m.seq).join(',')}`);
  }
  seqs(roomId?: string): number[] {
    return this.events.filter((e) => !roomId || e.roomId === roomId).flatMap((e) => e.messages.map((m) => m.seq));
  }
}

/** PostgreSQL as the gateway sees it; `gate` holds reads back so tests can interleave events. */
export class InMemoryHistory implements MessageHistory {
  readonly rows = new Map<string, Message[]>();
  epoch = EPOCH;
  failuresLeft = 0;
  findAfterCalls = 0;
  headSeqCalls = 0;
  epochCalls = 0;
  gate: Promise<void> | undefined;

  append(messages: Message[]): void {
    for (const m of messages) {
      const rows = this.rows.get(m.roomId) ?? [];
      rows.push(m);
      this.rows.set(m.roomId, rows);
    }
  }
  async currentEpoch(): Promise<string> {
    this.epochCalls++;
    await this.enter();
    return this.epoch;
  }
  async headSeq(roomId: string): Promise<number> {
    this.headSeqCalls++;
    await this.enter();
    const rows = this.rows.get(roomId) ?? [];
    return rows.length ? rows[rows.length - 1].seq : -1;
  }
  async findAfter(roomId: string, afterSeq: number, limit: number): Promise<Message[]> {
    this.findAfterCalls++;
    await this.enter();
    return (this.rows.get(roomId) ?? []).filter((m) => m.seq > afterSeq).slice(0, limit);
  }
  async findBefore(roomId: string, beforeSeq: number | undefined, limit: number): Promise<Message[]> {
    await this.enter();
    return (this.rows.get(roomId) ?? []).filter((m) => beforeSeq === undefined || m.seq < beforeSeq).slice(-limit);
  }
  latestCalls = 0;
  async afterSeqForLatest(roomId: string, count: number): Promise<number> {
    this.latestCalls++;
    await this.enter();
    return (this.rows.get(roomId) ?? []).slice(-count)[0]?.prevSeq ?? -1;
  }
  private async enter(): Promise<void> {
    if (this.gate) await this.gate;
    if (this.failuresLeft > 0) {
      this.failuresLeft--;
      throw new Error('connection refused');
    }
  }
}

export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Polls `check` between macrotasks until it passes or the deadline expires. */
export async function eventually(check: () => void, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}

/** Asserts the delivered events of one room are ascending, chained, and never repeat a seq. */
export function expectChained(target: RecordingTarget, roomId: string): void {
  let last: number | undefined;
  for (const event of target.events.filter((e) => e.roomId === roomId)) {
    expect(event.messages.length).toBeGreaterThan(0);
    for (const m of event.messages) {
      if (last !== undefined) {
        expect(m.seq).toBeGreaterThan(last);
        expect(m.prevSeq).toBe(last);
      }
      last = m.seq;
    }
  }
}
