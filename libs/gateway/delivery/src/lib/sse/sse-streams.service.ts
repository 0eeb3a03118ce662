/**
 * The open SSE streams of this gateway, and their part of the graceful drain: when shutdown
 * starts, every stream is told `server_restart { reconnectInMs }` with delays spread over
 * GATEWAY_DRAIN_SPREAD_MS (as sockets are), served on until then, and ended with a short `retry`
 * so EventSource reconnects at once through the load balancer to another instance, resuming with
 * Last-Event-ID. Shutdown waits for the streams to close, never longer than the drain's own
 * bound: a stream whose client does not read is cut KICK_GRACE_MS after its end, and the wait
 * gives up at GATEWAY_DRAIN_TIMEOUT_MS whatever happens.
 */
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnModuleDestroy,
  Optional,
} from '@nestjs/common';
import { DRAIN_OPTIONS } from '../delivery.tokens';
import { DEFAULT_DRAIN_OPTIONS, type DrainOptions } from '../drain.service';
import type { SseStream } from './sse-stream';

@Injectable()
export class SseStreams implements OnModuleDestroy, BeforeApplicationShutdown {
  private readonly logger = new Logger(SseStreams.name);
  private readonly streams = new Set<SseStream>();
  private readonly options: Required<DrainOptions>;
  private drained: Promise<void> | undefined;
  private allClosed: (() => void) | undefined;

  constructor(@Optional() @Inject(DRAIN_OPTIONS) options: Partial<DrainOptions> = {}) {
    const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
    this.options = { ...DEFAULT_DRAIN_OPTIONS, ...given };
  }

  get size(): number {
    return this.streams.size;
  }

  /** True once the drain began: new streams are refused (the controller asks before opening one). */
  get draining(): boolean {
    return this.drained !== undefined;
  }

  add(stream: SseStream): void {
    this.streams.add(stream);
  }

  remove(stream: SseStream): void {
    this.streams.delete(stream);
    if (this.streams.size === 0) this.allClosed?.();
  }

  onModuleDestroy(): void {
    void this.drain();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.drain();
  }

  drain(): Promise<void> {
    this.drained ??= this.run();
    return this.drained;
  }

  private async run(): Promise<void> {
    const { spreadMs, timeoutMs, random } = this.options;
    const streams = [...this.streams];
    if (streams.length === 0) return;
    this.logger.log(`draining ${streams.length} SSE streams over ${spreadMs} ms`);
    const timers: NodeJS.Timeout[] = [];
    // Equal slots in random order, jittered within each: every stretch of the window gets its share.
    const slots = streams.map((_, i) => i);
    for (let i = slots.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [slots[i], slots[j]] = [slots[j], slots[i]];
    }
    streams.forEach((stream, k) => {
      const reconnectInMs = Math.min(
        spreadMs > 0 ? spreadMs - 1 : 0,
        Math.floor(((slots[k] + random()) * spreadMs) / streams.length),
      );
      stream.announceRestart(reconnectInMs);
      const timer = setTimeout(() => stream.endForRestart(), reconnectInMs);
      timer.unref();
      timers.push(timer);
    });
    const closed = new Promise<void>((resolve) => {
      this.allClosed = resolve;
      if (this.streams.size === 0) resolve();
    });
    let timeout: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<'timeout'>((resolve) => {
      timeout = setTimeout(() => resolve('timeout'), timeoutMs);
      timeout.unref();
    });
    const outcome = await Promise.race([closed, gaveUp]);
    if (timeout) clearTimeout(timeout);
    if (outcome === 'timeout') {
      this.logger.warn(`SSE drain timeout: ${this.streams.size} streams still open; shutting down anyway`);
      for (const timer of timers) clearTimeout(timer);
    } else {
      this.logger.log(`drained ${streams.length} SSE streams`);
    }
  }
}
