import type {
  ClientToServerEvents,
  Message,
  MessagesEvent,
  ServerToClientEvents,
  SlowConsumerEvent,
  SubscribeAck,
  SubscribeRequest,
} from '@seqcast/contracts';
import { io, type Socket } from 'socket.io-client';
import { e2eToken } from './http-publisher';

export interface RawSubscriberOptions {
  /** Send a cumulative `ack { roomId, seq }` for every `messages` event (default true). */
  autoAck?: boolean;
}

/**
 * A bare socket.io-client speaking docs/protocol.md directly, with no SDK in between: it records
 * every message exactly as the gateway sent it (duplicates included), so tests can hold the
 * gateway itself to "no gap, no duplicate" on one subscription.
 */
export class RawSubscriber {
  readonly socket: Socket<ServerToClientEvents, ClientToServerEvents>;
  /** Every message received per room, in arrival order, with Date.now() at arrival. */
  readonly received = new Map<string, { message: Message; at: number }[]>();
  readonly slowConsumer: { event: SlowConsumerEvent; at: number }[] = [];
  readonly serverRestart: { reconnectInMs: number; at: number }[] = [];
  events = 0;
  disconnectReason: string | undefined;
  autoAck: boolean;

  private constructor(socket: Socket<ServerToClientEvents, ClientToServerEvents>, options: RawSubscriberOptions) {
    this.socket = socket;
    this.autoAck = options.autoAck ?? true;
    socket.on('messages', (event: MessagesEvent) => {
      this.events++;
      const list = this.received.get(event.roomId) ?? [];
      this.received.set(event.roomId, list);
      const at = Date.now();
      for (const message of event.messages) list.push({ message, at });
      const last = event.messages[event.messages.length - 1];
      if (this.autoAck && last) socket.emit('ack', { roomId: event.roomId, seq: last.seq });
    });
    socket.on('slow_consumer', (event) => this.slowConsumer.push({ event, at: Date.now() }));
    socket.on('server_restart', (event) => this.serverRestart.push({ reconnectInMs: event.reconnectInMs, at: Date.now() }));
    socket.on('disconnect', (reason) => (this.disconnectReason = reason));
  }

  static async connect(url: string, name: string, options: RawSubscriberOptions = {}): Promise<RawSubscriber> {
    const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(url, {
      auth: { token: e2eToken(name) },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    const subscriber = new RawSubscriber(socket, options);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    return subscriber;
  }

  async subscribe(request: SubscribeRequest): Promise<SubscribeAck> {
    if (!this.received.has(request.roomId)) this.received.set(request.roomId, []);
    const ack = (await this.socket.timeout(10_000).emitWithAck('subscribe', request)) as SubscribeAck;
    if (!ack.ok) throw new Error(`subscribe ${request.roomId} failed: ${JSON.stringify(ack.error)}`);
    return ack;
  }

  messages(roomId: string): Message[] {
    return (this.received.get(roomId) ?? []).map((r) => r.message);
  }

  count(roomId: string): number {
    return this.received.get(roomId)?.length ?? 0;
  }

  lastSeq(roomId: string): number | undefined {
    const list = this.received.get(roomId);
    return list && list.length > 0 ? list[list.length - 1].message.seq : undefined;
  }

  ack(roomId: string, seq: number): void {
    this.socket.emit('ack', { roomId, seq });
  }

  close(): void {
    this.socket.close();
  }
}
