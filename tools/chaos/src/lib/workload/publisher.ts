/**
 * A publisher as docs/protocol.md tells a client to behave: batches over HTTP, and after a 503 or a
 * network error the same batch again with the same clientMsgIds. Every attempt is recorded with
 * its outcome. It retries every 250 ms rather than after Retry-After so the recorded unavailability
 * windows have that resolution.
 */
import type { PublishResult } from '@seqcast/contracts';
import { now, sleep } from '../clock';
import type { PublishOutcome } from '../history';
import type { Recorder } from '../recorder';

export interface PublisherOptions {
  ingestUrl: () => string;
  token: () => string;
  rooms: string[];
  idPrefix: string;
  batchSize: number;
  /** Pause between the starts of two batches (load shaping). */
  intervalMs: number;
  /** A request without an answer by then counts as a network failure and is retried. */
  attemptTimeoutMs: number;
  retryDelayMs: number;
}

export class Publisher {
  private n = 0;

  constructor(
    private readonly recorder: Recorder,
    private readonly options: PublisherOptions,
  ) {}

  /** Publishes until `stop()`, then gives a pending batch until `giveUpAt()` (recorder clock) to get through. */
  async run(stop: () => boolean, giveUpAt: () => number): Promise<void> {
    while (!stop()) {
      const started = now();
      const items = Array.from({ length: this.options.batchSize }, () => {
        const n = this.n++;
        return { roomId: this.options.rooms[n % this.options.rooms.length], clientMsgId: `${this.options.idPrefix}-${n}`, payload: { n } };
      });
      await this.publish(items, giveUpAt);
      const wait = this.options.intervalMs - (now() - started);
      if (wait > 0) await sleep(wait);
    }
  }

  private async publish(items: { roomId: string; clientMsgId: string; payload: { n: number } }[], giveUpAt: () => number): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const startedAt = now();
      let outcome: PublishOutcome;
      let detail: string | undefined;
      let results: PublishResult[] | undefined;
      try {
        const res = await fetch(`${this.options.ingestUrl()}/v1/messages/batch`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${this.options.token()}` },
          body: JSON.stringify({ messages: items }),
          signal: AbortSignal.timeout(this.options.attemptTimeoutMs),
        });
        const text = await res.text();
        if (res.status === 202) {
          outcome = 'ok';
          results = (JSON.parse(text) as { results: PublishResult[] }).results;
        } else {
          outcome = res.status === 503 ? 'unavailable' : 'rejected';
          detail = `${res.status} ${text.slice(0, 200)}`;
        }
      } catch (error) {
        outcome = 'network';
        detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      }
      const endedAt = now();
      items.forEach((item, i) => {
        this.recorder.publishes.push({
          roomId: item.roomId,
          clientMsgId: item.clientMsgId,
          attempt,
          startedAt,
          endedAt,
          outcome,
          ...(results?.[i] ? { offset: Number(results[i].offset) } : {}),
          ...(detail ? { detail } : {}),
        });
      });
      if (outcome === 'ok' || outcome === 'rejected') return;
      if (now() >= giveUpAt()) return;
      await sleep(this.options.retryDelayMs);
    }
  }
}
