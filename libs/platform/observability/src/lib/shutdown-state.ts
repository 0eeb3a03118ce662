import { Injectable, type OnModuleDestroy } from '@nestjs/common';

/**
 * Whether the application has begun shutting down. Nest calls `onModuleDestroy` first thing on
 * SIGTERM (or `app.close()`), before any drain work, so readiness turns 503 at once and a load
 * balancer stops sending traffic while the service finishes what it already accepted.
 */
@Injectable()
export class ShutdownState implements OnModuleDestroy {
  private since: number | undefined;

  get shuttingDown(): boolean {
    return this.since !== undefined;
  }

  onModuleDestroy(): void {
    this.since ??= Date.now();
  }
}
