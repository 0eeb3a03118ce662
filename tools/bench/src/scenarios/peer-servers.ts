import { freePort } from '@seqcast/testing';
import { runId } from '../lib/context';
import { SocketIoServerProcess } from '../lib/processes';

export interface SocketIoSystem {
  servers: SocketIoServerProcess[];
  /** A new instance on the same stream (the storm's replacement). */
  add(): Promise<SocketIoServerProcess>;
  stop(): Promise<void>;
}

/** Raw Socket.IO server(s), in-memory adapter: the same-run baseline for fan-out and memory. */
export async function startRaw(env: Record<string, string> = {}): Promise<SocketIoSystem> {
  const server = new SocketIoServerProcess(`raw-socketio-${runId()}`, await freePort(), env);
  await server.start();
  return { servers: [server], add: () => Promise.reject(new Error('raw baseline is a single instance')), stop: () => server.stop(5_000) };
}

/**
 * The peer a team would consider instead of Seqcast: Socket.IO + @socket.io/redis-streams-adapter
 * with connection state recovery on the local Redis, on its own stream key, removed afterwards.
 */
export async function startPeer(redisUrl: string, instances: number, drainSpreadMs = 10_000): Promise<SocketIoSystem> {
  await requireRedis(redisUrl);
  const stream = `seqcast-bench-peer-${runId()}`;
  const servers: SocketIoServerProcess[] = [];
  const add = async () => {
    const server = new SocketIoServerProcess(`peer-${stream}-${servers.length + 1}`, await freePort(), {
      BENCH_REDIS_URL: redisUrl,
      BENCH_REDIS_STREAM: stream,
      BENCH_DRAIN_SPREAD_MS: String(drainSpreadMs),
    });
    servers.push(server);
    await server.start();
    return server;
  };
  const stop = async () => {
    await Promise.all(servers.map((s) => s.stop(drainSpreadMs + 10_000)));
    await cleanRedis(redisUrl, stream);
  };
  try {
    for (let i = 0; i < instances; i++) await add();
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
  return { servers, add, stop };
}

/** Fails fast, naming what is missing, instead of servers that retry a Redis that is not there. */
async function requireRedis(url: string): Promise<void> {
  const { createClient } = await import('redis');
  const client = createClient({ url, socket: { connectTimeout: 2_000, reconnectStrategy: false } });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    throw new Error(`the peer scenario needs Redis at ${url} (start redis-server, or pass --redis <url>): ${(error as Error).message}`);
  } finally {
    if (client.isOpen) await client.quit();
  }
}

/** Deletes the run's stream and recovery sessions (the local Redis is shared). */
async function cleanRedis(url: string, stream: string): Promise<void> {
  const { createClient } = await import('redis');
  const client = createClient({ url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const keys: string[] = [stream];
    for await (const batch of client.scanIterator({ MATCH: `${stream}:*`, COUNT: 1000 })) keys.push(...(batch as unknown as string[]));
    for (let i = 0; i < keys.length; i += 500) await client.del(keys.slice(i, i + 500));
  } finally {
    await client.quit();
  }
}
