/**
 * The same-run baselines: a minimal Socket.IO server doing what a team would write by hand.
 * `subscribe { roomId }` joins the room (acknowledged), `POST /publish { roomId, messages }` emits
 * one `messages { roomId, messages }` event to the room — the same event shape and batching as the
 * Seqcast gateway. With BENCH_REDIS_URL it is the "peer": `@socket.io/redis-streams-adapter` with
 * connection state recovery, so several instances share rooms and a reconnecting client gets what
 * it missed. SIGTERM drains like the gateway: connections are closed spread over
 * BENCH_DRAIN_SPREAD_MS (transport close, so clients reconnect and recover), then the process exits.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { getHeapSpaceStatistics } from 'node:v8';
import { Server, type ServerOptions } from 'socket.io';

const port = Number(process.env['PORT'] ?? 0);
const redisUrl = process.env['BENCH_REDIS_URL'];
const streamName = process.env['BENCH_REDIS_STREAM'] ?? 'bench-peer';
const sessionKeyPrefix = `${streamName}:session:`;
const drainSpreadMs = Number(process.env['BENCH_DRAIN_SPREAD_MS'] ?? 1000);

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

async function main(): Promise<void> {
  const options: Partial<ServerOptions> = { transports: ['websocket'], serveClient: false };
  let closeRedis = async () => undefined as unknown;
  if (redisUrl) {
    const { createClient } = await import('redis');
    const { createAdapter } = await import('@socket.io/redis-streams-adapter');
    const client = createClient({ url: redisUrl });
    client.on('error', (error: Error) => console.error(`redis: ${error.message}`));
    await client.connect();
    options.adapter = createAdapter(client, { streamName, sessionKeyPrefix, maxLen: 100_000 });
    // Two minutes covers the storm's drain window and reconnect backoff.
    options.connectionStateRecovery = { maxDisconnectionDuration: 120_000, skipMiddlewares: true };
    closeRedis = () => client.quit();
  }

  const http = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.method === 'GET' && req.url === '/readyz') {
      res.writeHead(200).end('ok');
      return;
    }
    if (req.method === 'GET' && req.url === '/memory') {
      // What the idle scenario samples, as the gateway's /metrics shows it: no forced GC (the
      // gateway offers none), the V8 heap per space (committed vs used) and memory outside it.
      const m = process.memoryUsage();
      const spaces = Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name.replace(/_space$/, ''), { size: s.space_size, used: s.space_used_size }]));
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, spaces, sockets: io.engine.clientsCount }));
      return;
    }
    if (req.method === 'POST' && req.url === '/publish') {
      readJson(req)
        .then((body) => {
          const { roomId, messages } = body as { roomId: string; messages: unknown[] };
          io.to(roomId).emit('messages', { roomId, messages });
          res.writeHead(202).end();
        })
        .catch((error: Error) => res.writeHead(400).end(error.message));
      return;
    }
    res.writeHead(404).end();
  });
  const io = new Server(http, options);
  io.on('connection', (socket) => {
    socket.on('subscribe', ({ roomId }: { roomId: string }, ack?: (answer: unknown) => void) => {
      void socket.join(roomId);
      ack?.({ ok: true, roomId });
    });
  });

  let draining = false;
  process.on('SIGTERM', () => {
    if (draining) return;
    draining = true;
    const sockets = [...io.of('/').sockets.values()];
    sockets.forEach((socket, i) => setTimeout(() => socket.conn.close(), (drainSpreadMs * i) / Math.max(1, sockets.length)));
    setTimeout(() => {
      void (async () => {
        io.close();
        await closeRedis().catch(() => undefined);
        process.exit(0);
      })();
    }, drainSpreadMs + 500);
  });

  http.listen(port, '127.0.0.1', () => process.send?.({ type: 'listening', port: (http.address() as { port: number }).port }));
}

main().catch((error: Error) => {
  console.error(`socketio-server: ${error.stack ?? error.message}`);
  process.exit(1);
});
