/**
 * A resuming subscriber built on the real @seqcast/client SDK (cursors, dedupe, gap healing,
 * reconnects are the SDK's). The only thing swapped is the transport, through the SDK's test seam,
 * for a copy of its socket.io transport that also records every `messages` event as it arrived:
 * the raw layer, before the SDK's dedupe.
 */
import type { ClientToServerEvents, MessagesEvent, ServerToClientEvents } from '@seqcast/contracts/wire';
import { SeqcastClient } from '@seqcast/client';
import { io, type Socket } from 'socket.io-client';
import { now } from '../clock';
import type { Recorder } from '../recorder';

type Internals = NonNullable<ConstructorParameters<typeof SeqcastClient>[1]>;
type TransportFactory = NonNullable<Internals['transportFactory']>;

function recordingTransport(onRaw: (event: MessagesEvent) => void): TransportFactory {
  return ({ url, token, socketOptions, handlers }) => {
    const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(url, {
      transports: ['websocket', 'polling'],
      ...socketOptions,
      reconnection: false,
      forceNew: true,
      autoConnect: true,
      auth: { token },
    });
    socket.on('connect', () => handlers.connect());
    socket.on('disconnect', (reason) => handlers.disconnect(reason));
    socket.on('connect_error', (error) => handlers.connectError(error.message));
    socket.on('messages', (event) => {
      onRaw(event);
      handlers.messages(event);
    });
    socket.on('server_restart', (event) => handlers.serverRestart(event));
    socket.on('slow_consumer', (event) => handlers.slowConsumer(event));
    socket.on('token_expiring', (event) => handlers.tokenExpiring(event));
    socket.on('token_expired', (event) => handlers.tokenExpired(event));
    socket.on('unsubscribed', (event) => handlers.unsubscribed(event));
    return {
      subscribe: (request, ack) => void socket.emit('subscribe', request, ack),
      unsubscribe: (request, ack) => void socket.emit('unsubscribe', request, ack),
      ack: (request) => void socket.emit('ack', request),
      refresh: (request, ack) => void socket.emit('refresh', request, ack),
      close: () => {
        socket.removeAllListeners();
        socket.disconnect();
      },
    };
  };
}

export class Subscriber {
  readonly client: SeqcastClient;
  appCount = 0;
  readonly states: { state: string; at: number; reason?: string }[] = [];

  constructor(
    readonly name: string,
    private readonly recorder: Recorder,
    options: { gatewayUrl: string; ingestUrl: string; token: () => string },
  ) {
    this.client = new SeqcastClient(
      {
        gatewayUrl: options.gatewayUrl,
        ingestUrl: options.ingestUrl,
        token: options.token,
        // Capped backoff: the run measures the services, not a 30 s client back-off ceiling.
        reconnect: { baseDelayMs: 200, maxDelayMs: 2000, maxRetries: 1000 },
        socketOptions: { transports: ['websocket'] },
      },
      {
        transportFactory: recordingTransport((event) => {
          const at = now();
          for (const m of event.messages) {
            recorder.deliveries.push({ subscriber: name, layer: 'raw', roomId: m.roomId, seq: m.seq, prevSeq: m.prevSeq, clientMsgId: m.clientMsgId, at });
          }
        }),
      },
    );
    this.client.on('state', (state, detail) => this.states.push({ state, at: now(), reason: detail?.reason }));
  }

  async subscribe(rooms: string[]): Promise<void> {
    this.recorder.subscribers.push({ name: this.name, rooms });
    this.client.connect();
    await Promise.all(
      rooms.map((roomId) =>
        this.client.subscribe(roomId, (m) => {
          this.appCount++;
          this.recorder.deliveries.push({ subscriber: this.name, layer: 'app', roomId: m.roomId, seq: m.seq, prevSeq: m.prevSeq, clientMsgId: m.clientMsgId, at: now() });
        }),
      ),
    );
  }

  close(): void {
    this.client.close();
  }
}
