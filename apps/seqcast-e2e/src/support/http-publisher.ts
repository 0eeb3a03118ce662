import { signToken } from '@seqcast/auth';
import type { HistoryPage, JsonValue, Message, PublishResult } from '@seqcast/contracts';
import { TEST_JWT_SECRET } from '@seqcast/testing';

/** A token for every room, signed with the secret the e2e stacks run with. */
export function e2eToken(sub = 'e2e-user', rooms: string[] = ['*']): string {
  return signToken({ sub, rooms }, TEST_JWT_SECRET);
}

export interface PublishItem {
  roomId: string;
  clientMsgId: string;
  payload: JsonValue;
}

export interface StreamOptions {
  rooms: string[];
  /** Message n goes to rooms[n % rooms.length] with clientMsgId `${idPrefix}-${n}`. */
  idPrefix: string;
  /** Stop after this many messages; without it the stream runs until `until()` is true. */
  total?: number;
  until?: () => boolean;
  batchSize?: number;
  /** Pacing between batches (load shaping, not synchronisation); 0 = back to back. */
  intervalMs?: number;
  /** Called after each accepted batch with the number of messages accepted so far. */
  onBatch?: (published: number) => void | Promise<void>;
}

const RETRY_DEADLINE_MS = 15_000;

/**
 * Publishes over ingest-api's HTTP batch endpoint the way docs/protocol.md tells a client to:
 * after a 503 or a network error (an ingest instance going away) it retries the same ids, so a
 * retry never creates a second message. Records the first 202 of each message.
 */
export class HttpPublisher {
  readonly accepted = new Map<string, PublishResult>();
  requests = 0;
  retries = 0;
  private readonly token: string;

  constructor(
    private readonly ingestUrl: string | (() => string),
    token = e2eToken('e2e-publisher'),
  ) {
    this.token = token;
  }

  get count(): number {
    return this.accepted.size;
  }

  /** clientMsgIds accepted for one room. */
  idsOf(roomId: string): string[] {
    return [...this.accepted.values()].filter((r) => r.roomId === roomId).map((r) => r.clientMsgId);
  }

  async publishBatch(items: PublishItem[]): Promise<PublishResult[]> {
    const deadline = Date.now() + RETRY_DEADLINE_MS;
    for (let attempt = 1; ; attempt++) {
      let failure: string;
      try {
        this.requests++;
        const res = await fetch(`${this.baseUrl()}/v1/messages/batch`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${this.token}` },
          body: JSON.stringify({ messages: items }),
        });
        if (res.status === 202) {
          const { results } = (await res.json()) as { results: PublishResult[] };
          for (const r of results) {
            const key = `${r.roomId}/${r.clientMsgId}`;
            if (!this.accepted.has(key)) this.accepted.set(key, r);
          }
          return results;
        }
        failure = `${res.status} ${await res.text()}`;
        // Only 503 is the documented "retry with the same ids"; anything else fails the test.
        if (res.status !== 503) throw new Error(`POST /v1/messages/batch -> ${failure}`);
      } catch (error) {
        if (error instanceof Error && error.message.startsWith('POST ')) throw error;
        failure = error instanceof Error ? `${error.message} ${String((error as { cause?: unknown }).cause ?? '')}` : String(error);
      }
      if (Date.now() >= deadline) throw new Error(`publish failed after ${attempt} attempts: ${failure}`);
      this.retries++;
      await new Promise((resolve) => setTimeout(resolve, Math.min(50 * attempt, 500)));
    }
  }

  /** Sequential batches, rooms interleaved; resolves with the number of messages published. */
  async stream(options: StreamOptions): Promise<number> {
    const batchSize = options.batchSize ?? 10;
    let n = 0;
    for (;;) {
      if (options.total !== undefined && n >= options.total) break;
      if (options.until?.()) break;
      const size = options.total === undefined ? batchSize : Math.min(batchSize, options.total - n);
      const items = Array.from({ length: size }, (_, j) => ({
        roomId: options.rooms[(n + j) % options.rooms.length],
        clientMsgId: `${options.idPrefix}-${n + j}`,
        payload: { n: n + j },
      }));
      await this.publishBatch(items);
      n += size;
      await options.onBatch?.(n);
      if (options.intervalMs) await new Promise((resolve) => setTimeout(resolve, options.intervalMs));
    }
    return n;
  }

  private baseUrl(): string {
    return typeof this.ingestUrl === 'function' ? this.ingestUrl() : this.ingestUrl;
  }
}

/** A room's whole retained history (or everything after `afterSeq`), paged as the protocol says. */
export async function readHistory(ingestUrl: string, roomId: string, afterSeq = -1, token = e2eToken()): Promise<Message[]> {
  const all: Message[] = [];
  let cursor = afterSeq;
  for (;;) {
    const res = await fetch(`${ingestUrl}/v1/rooms/${roomId}/messages?afterSeq=${cursor}&limit=1000`, {
      headers: { authorization: `Bearer ${token}` },
    });
    if (res.status !== 200) throw new Error(`GET history of ${roomId} -> ${res.status} ${await res.text()}`);
    const page = (await res.json()) as HistoryPage;
    all.push(...page.messages);
    if (page.messages.length < 1000 || page.messages[page.messages.length - 1].seq === page.headSeq) return all;
    cursor = page.messages[page.messages.length - 1].seq;
  }
}
