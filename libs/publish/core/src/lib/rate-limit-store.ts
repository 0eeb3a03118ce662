/**
 * The optional Redis connection the publish rate limit shares its counters through
 * (SEQCAST_REDIS_URL). Failures never reach a publish: the limiter falls back to its in-memory
 * budget while Redis is unreachable, and the connection is logged only when it changes state (an
 * unreachable Redis retries every second or so; a line per retry would bury everything else). The
 * URL may carry a password: it is never logged, only its host.
 */
import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';

export class RateLimitStore implements OnApplicationShutdown {
  private readonly logger = new Logger('RateLimitStore');
  readonly client: Redis | undefined;

  constructor(url: string | undefined) {
    if (!url) return;
    const host = safeHost(url);
    let healthy = true;
    this.client = new Redis(url, {
      // A publish must never wait for Redis: no queueing while disconnected, one attempt per command.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2_000,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    });
    this.client.on('ready', () => {
      healthy = true;
      this.logger.log(`rate-limit store connected (redis ${host})`);
    });
    this.client.on('error', (error: Error) => {
      if (!healthy) return;
      healthy = false;
      this.logger.warn(
        `rate-limit store unreachable (redis ${host}): ${error.message}; limiting per instance until it is back`,
      );
    });
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.client) return;
    await this.client.quit().catch(() => this.client?.disconnect());
  }
}

function safeHost(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || '6379'}`;
  } catch {
    return '(unparsable url)';
  }
}
