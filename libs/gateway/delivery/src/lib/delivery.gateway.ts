/**
 * The Socket.IO surface of the edge gateway (docs/protocol.md "edge-gateway"): handshake auth,
 * `subscribe` and `unsubscribe` with acks. Payloads come straight off the wire, so every handler
 * validates first and answers through a guarded ack: a bad payload or a missing ack callback
 * gets an error ack (or nothing) and never an exception.
 */
import { Inject, Logger } from '@nestjs/common';
import {
  Ack,
  ConnectedSocket,
  MessageBody,
  type OnGatewayDisconnect,
  type OnGatewayInit,
  SubscribeMessage,
  WebSocketGateway,
} from '@nestjs/websockets';
import { canAccessRoom, type TokenVerifier } from '@seqcast/auth';
import {
  ErrorCode,
  type Failed,
  type SubscribeAck,
  subscribeRequestSchema,
  type UnsubscribeAck,
  unsubscribeRequestSchema,
  validate,
} from '@seqcast/contracts';
import { TOKEN_VERIFIER } from './delivery.tokens';
import { socketAuthMiddleware } from './socket-auth.middleware';
import type { GatewayServer, GatewaySocket } from './socket-types';
import type { DeliveryTarget } from './subscription';
import { SubscriptionService } from './subscription.service';

@WebSocketGateway()
export class DeliveryGateway implements OnGatewayInit<GatewayServer>, OnGatewayDisconnect<GatewaySocket> {
  private readonly logger = new Logger(DeliveryGateway.name);
  private readonly targets = new WeakMap<GatewaySocket, DeliveryTarget>();

  constructor(
    @Inject(TOKEN_VERIFIER) private readonly verifier: TokenVerifier,
    private readonly subscriptions: SubscriptionService,
  ) {}

  afterInit(server: GatewayServer): void {
    server.use(socketAuthMiddleware(this.verifier, (reason) => this.logger.debug(`handshake rejected: ${reason}`)));
  }

  handleDisconnect(socket: GatewaySocket): void {
    this.subscriptions.disconnect(socket.id);
  }

  @SubscribeMessage('subscribe')
  async subscribe(
    @ConnectedSocket() socket: GatewaySocket,
    @MessageBody() body: unknown,
    @Ack() ack: unknown,
  ): Promise<void> {
    const respond = guardedAck<SubscribeAck>(ack, this.logger);
    const principal = socket.data.principal;
    if (!principal) return respond(failed(ErrorCode.Unauthorized, 'not authenticated'));
    const request = validate(subscribeRequestSchema, body);
    if (!request.ok) return respond(failed(ErrorCode.InvalidRequest, request.message));
    if (!canAccessRoom(principal, request.value.roomId)) {
      return respond(failed(ErrorCode.Forbidden, `token does not grant access to room ${request.value.roomId}`));
    }
    try {
      await this.subscriptions.subscribe(this.targetFor(socket), request.value, respond);
    } catch (error) {
      this.logger.error(
        `subscribe ${request.value.roomId} failed: ${error instanceof Error ? error.stack : String(error)}`,
      );
      respond(failed(ErrorCode.Internal, 'subscribe failed'));
    }
    // The socket may have gone while PostgreSQL was read; make sure nothing of it stays registered.
    if (socket.disconnected) this.subscriptions.disconnect(socket.id);
  }

  @SubscribeMessage('unsubscribe')
  unsubscribe(@ConnectedSocket() socket: GatewaySocket, @MessageBody() body: unknown, @Ack() ack: unknown): void {
    const respond = guardedAck<UnsubscribeAck>(ack, this.logger);
    const request = validate(unsubscribeRequestSchema, body);
    if (!request.ok) return respond(failed(ErrorCode.InvalidRequest, request.message));
    respond(this.subscriptions.unsubscribe(this.targetFor(socket), request.value.roomId));
  }

  private targetFor(socket: GatewaySocket): DeliveryTarget {
    let target = this.targets.get(socket);
    if (!target) {
      target = { id: socket.id, deliver: (event) => socket.emit('messages', event) };
      this.targets.set(socket, target);
    }
    return target;
  }
}

function failed(code: ErrorCode, message: string): Failed {
  return { ok: false, error: { code, message } };
}

/** The client's ack callback if it sent one; a no-op otherwise. Never throws into the handler. */
function guardedAck<T>(ack: unknown, logger: Logger): (response: T) => void {
  if (typeof ack !== 'function') return () => undefined;
  return (response) => {
    try {
      ack(response);
    } catch (error) {
      logger.warn(`ack failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
}
