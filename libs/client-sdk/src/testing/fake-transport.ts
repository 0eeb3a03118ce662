/**
 * A scriptable stand-in for the gateway connection, so the SDK's own logic (reconnects, cursors,
 * dedupe, gaps, acks) is what the unit tests exercise. Each connection attempt is one FakeConnection;
 * the test plays the server: accept/refuse/drop it, answer subscribes, push messages.
 */
import type {
  AckRequest,
  Message,
  PublishAck,
  SocketPublishRequest,
  RefreshAck,
  RefreshRequest,
  SubscribeAck,
  SubscribeOk,
  SubscribeRequest,
  UnsubscribeAck,
  UnsubscribeRequest,
} from '@seqcast/contracts/wire';
import type { Transport, TransportFactory, TransportParams } from '../lib/transport';

export class FakeConnection implements Transport {
  readonly subscribes: Array<{ request: SubscribeRequest; ack: (response: SubscribeAck) => void }> = [];
  readonly unsubscribes: Array<{ request: UnsubscribeRequest; ack: (response: UnsubscribeAck) => void }> = [];
  readonly acks: AckRequest[] = [];
  readonly refreshes: Array<{ request: RefreshRequest; ack: (response: RefreshAck) => void }> = [];
  readonly publishes: Array<{ request: SocketPublishRequest; ack: (response: PublishAck) => void }> = [];
  /** Everything the client emitted, in order, for assertions about ordering. */
  readonly log: string[] = [];
  closed = false;

  constructor(readonly params: TransportParams) {}

  subscribe(request: SubscribeRequest, ack: (response: SubscribeAck) => void): void {
    this.log.push(`subscribe ${JSON.stringify(request)}`);
    this.subscribes.push({ request, ack });
  }
  unsubscribe(request: UnsubscribeRequest, ack: (response: UnsubscribeAck) => void): void {
    this.log.push(`unsubscribe ${request.roomId}`);
    this.unsubscribes.push({ request, ack });
  }
  ack(request: AckRequest): void {
    this.log.push(`ack ${request.roomId} ${request.seq}`);
    this.acks.push(request);
  }
  refresh(request: RefreshRequest, ack: (response: RefreshAck) => void): void {
    this.log.push('refresh');
    this.refreshes.push({ request, ack });
  }
  publish(request: SocketPublishRequest, ack: (response: PublishAck) => void): void {
    this.log.push(`publish ${request.roomId} ${request.clientMsgId}`);
    this.publishes.push({ request, ack });
  }
  close(): void {
    this.closed = true;
  }

  // --- the server's side ---
  accept(): void {
    this.params.handlers.connect();
  }
  refuse(message = 'websocket error', data?: unknown): void {
    this.params.handlers.connectError(message, data);
  }
  drop(reason = 'transport close'): void {
    this.params.handlers.disconnect(reason);
  }
  /** Answers the most recent subscribe (for `roomId`, if given). */
  answer(ack: Partial<SubscribeOk> | SubscribeAck, roomId?: string): void {
    const pending = [...this.subscribes].reverse().find((s) => roomId === undefined || s.request.roomId === roomId);
    if (!pending) throw new Error(`no subscribe${roomId ? ` for ${roomId}` : ''} to answer`);
    const full: SubscribeAck =
      'ok' in ack && ack.ok === false
        ? ack
        : { ok: true, roomId: pending.request.roomId, epoch: 'e1', headSeq: -1, ...(ack as Partial<SubscribeOk>) };
    pending.ack(full);
  }
  send(roomId: string, messages: Message[]): void {
    this.params.handlers.messages({ roomId, messages });
  }
  restart(reconnectInMs: number): void {
    this.params.handlers.serverRestart({ reconnectInMs });
  }
  tokenExpiring(expiresAt = '2026-11-28T09:00:00.000Z'): void {
    this.params.handlers.tokenExpiring({ expiresAt });
  }
  tokenExpired(): void {
    this.params.handlers.tokenExpired({ expiredAt: '2026-11-28T09:00:00.000Z' });
  }
  revoke(roomId: string): void {
    this.params.handlers.unsubscribed({ roomId, reason: 'access_revoked' });
  }
  slowConsumer(): void {
    this.params.handlers.slowConsumer({ backlog: { messages: 1000, bytes: 1 << 20 } });
  }
}

export class FakeGateway {
  readonly connections: FakeConnection[] = [];
  readonly factory: TransportFactory = (params) => {
    const connection = new FakeConnection(params);
    this.connections.push(connection);
    return connection;
  };

  get last(): FakeConnection {
    const connection = this.connections[this.connections.length - 1];
    if (!connection) throw new Error('no connection attempt yet');
    return connection;
  }
}

/** A message of `roomId`; consecutive calls chain when prevSeq is given as the previous seq. */
export function message(roomId: string, seq: number, prevSeq: number | null, epoch = 'e1'): Message {
  return {
    roomId,
    seq,
    prevSeq,
    epoch,
    clientMsgId: `c-${seq}`,
    senderId: 'user-1',
    payload: { n: seq },
    sentAt: '2026-11-28T08:15:30.123Z',
    sequencedAt: '2026-11-28T08:15:30.141Z',
  };
}

/** Messages seq from..to (inclusive), each chained onto the previous, the first onto `prevOfFirst`. */
export function chain(roomId: string, seqs: number[], prevOfFirst: number | null, epoch = 'e1'): Message[] {
  return seqs.map((seq, i) => message(roomId, seq, i === 0 ? prevOfFirst : seqs[i - 1], epoch));
}
