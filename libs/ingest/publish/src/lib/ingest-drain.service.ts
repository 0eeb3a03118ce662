import { Injectable, Logger, type OnModuleDestroy, type BeforeApplicationShutdown } from '@nestjs/common';
import { ErrorCode, errorEnvelope } from '@seqcast/contracts';
import { OPERATIONAL_PATHS, pathOf, type RequestHook } from './http-types';
import { ingestMetrics } from './ingest.metrics';

/**
 * Seconds a client should wait before retrying a request refused during a drain. Short: the load
 * balancer already routes to another instance (readiness went 503 first), so the retry can go now.
 */
export const DRAIN_RETRY_AFTER_SECONDS = 1;

/**
 * Graceful drain of the ingest API. Nest's shutdown calls `onModuleDestroy` first: from then on new
 * requests are refused with 503 `unavailable` + Retry-After (and `Connection: close`, so the client's
 * next attempt opens a connection the load balancer can send elsewhere). `beforeApplicationShutdown`
 * then waits until every request already in flight has been answered, and only after that does Nest
 * close the HTTP server and the producer flushes and disconnects (`onApplicationShutdown`). So every
 * 202 this instance sends is for a record Kafka has acknowledged, and no accepted request is cut off.
 * The process-wide deadline (INGEST_SHUTDOWN_TIMEOUT_MS) bounds the wait.
 */
@Injectable()
export class IngestDrain implements OnModuleDestroy, BeforeApplicationShutdown {
  private readonly logger = new Logger('IngestDrain');
  private draining = false;
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];

  get isDraining(): boolean {
    return this.draining;
  }

  /** Requests accepted for processing and not yet answered (probes and scrapes excluded). */
  get requestsInFlight(): number {
    return this.inFlight;
  }

  onModuleDestroy(): void {
    if (this.draining) return;
    this.draining = true;
    this.logger.log(`draining: refusing new requests, ${this.inFlight} in flight`);
  }

  async beforeApplicationShutdown(): Promise<void> {
    const started = Date.now();
    const waitingFor = this.inFlight;
    await new Promise<void>((resolve) => {
      if (this.inFlight === 0) resolve();
      else this.idleWaiters.push(resolve);
    });
    this.logger.log(`drained: ${waitingFor} request(s) in flight finished in ${Date.now() - started} ms`);
  }

  /** An `onRequest` hook: runs before the body parser, so a refused request's body is never read. */
  hook(): RequestHook {
    return (request, reply, done) => {
      if (OPERATIONAL_PATHS.has(pathOf(request))) {
        done();
        return;
      }
      if (this.draining) {
        ingestMetrics.rejectedRequests.inc({ code: ErrorCode.Unavailable });
        reply.header('Retry-After', String(DRAIN_RETRY_AFTER_SECONDS));
        reply.header('Connection', 'close');
        reply
          .code(503)
          .send(errorEnvelope(ErrorCode.Unavailable, 'this instance is shutting down; retry the request'));
        return;
      }
      const response = reply.raw;
      this.inFlight++;
      let settled = false;
      const settle = () => {
        if (settled) return;
        settled = true;
        this.inFlight--;
        if (this.inFlight === 0) this.idleWaiters.splice(0).forEach((wake) => wake());
      };
      // `close` also fires when the client gives up early; either way the request is over.
      response.once('finish', settle);
      response.once('close', settle);
      done();
    };
  }
}
