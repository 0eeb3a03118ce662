/**
 * The Socket.IO surface of the edge gateway (docs/protocol.md "edge-gateway"): handshake
 * (refused while draining, then authenticated), `subscribe`, `unsubscribe`, `ack` and `refresh`
 * (the token's lifetime is ./token-lifetime.ts), `publish` (./socket-publish.ts), and the connection lifecycle (metrics, logs, freeing a socket's state the moment it disconnects).
 * Payloads come straight off the wire, so every handler validates first and answers through a
 * guarded ack: a bad payload or a missing ack callback gets an error ack (or nothing) and never
 * an exception.
 */
import { Inject, Logger, Optional } from '@nestjs/common';
import {
  Ack,
  ConnectedSocket,
  MessageBody,
  type OnGatewayConnection,
  type OnGatewayDisconnect,
  type OnGatewayInit,
  SubscribeMessage,
  WebSocketGateway,
} from '@nestjs/websockets';
import { canAccessRoom, type TokenVerifier } from '@seqcast/auth';
import {
  ackRequestSchema,
  ErrorCode,
  type Failed,
  type PresenceAck,
  type PublishAck,
  type RefreshAck,
  type SubscribeAck,
  subscribeRequestSchema,
  SERVER_BUSY_CONNECT_ERROR,
  TOO_MANY_CONNECTIONS_CONNECT_ERROR,
  UNAUTHORIZED_CONNECT_ERROR,
  type UnsubscribeAck,
  unsubscribeRequestSchema,
  validate,
} from '@seqcast/contracts';
import { ConnectionLimits } from './connection-limits';
import { TOKEN_LIFETIME_OPTIONS, TOKEN_VERIFIER } from './delivery.tokens';
import type { DeliveryTarget } from './delivery-session';
import { DrainService } from './drain.service';
import { disconnectReasonLabel, gatewayMetrics } from './gateway.metrics';
import { GATEWAY_LIMITS, type GatewayLimitOptions, NO_LIMITS } from './gateway-limits';
import { HandshakeAdmission } from './handshake-admission';
import { socketAuthMiddleware } from './socket-auth.middleware';
import { socketTarget } from './socket-target';
import { type GatewayServer, type GatewaySocket, userOf } from './socket-types';
import { SubscriptionLimits } from './subscription-limits';
import { SubscriptionService } from './subscription.service';
import { TokenLifetime, type TokenLifetimeOptions } from './token-lifetime';
import { releaseUpgradeRequest } from './upgrade-request';
import { PresenceService } from './presence/presence.service';
import { joinPresence, leaveAllPresence, leavePresence, presenceList } from './presence/presence.gateway-hooks';
import { SocketPublisher } from './socket-publish';

@WebSocketGateway()
export class DeliveryGateway
  implements OnGatewayInit<GatewayServer>, OnGatewayConnection<GatewaySocket>, OnGatewayDisconnect<GatewaySocket>
{
  private readonly logger = new Logger(DeliveryGateway.name);
  private readonly targets = new WeakMap<GatewaySocket, DeliveryTarget>();
  private readonly lifetime: TokenLifetime;
  private readonly connectionLimits: ConnectionLimits;
  private readonly subscriptionLimits: SubscriptionLimits;
  private readonly admission: HandshakeAdmission;

  constructor(
    @Inject(TOKEN_VERIFIER) private readonly verifier: TokenVerifier,
    private readonly subscriptions: SubscriptionService,
    private readonly drain: DrainService,
    @Optional() @Inject(TOKEN_LIFETIME_OPTIONS) lifetimeOptions: TokenLifetimeOptions = DEFAULT_LIFETIME,
    @Optional() @Inject(GATEWAY_LIMITS) limits: GatewayLimitOptions = NO_LIMITS,
    @Optional() private readonly presence?: PresenceService,
    @Optional() private readonly publisher?: SocketPublisher,
  ) {
    this.lifetime = new TokenLifetime(
      verifier,
      {
        roomsOf: (socketId) => this.subscriptions.roomsOf(socketId),
        end: (socket, roomId) => {
          leavePresence(this.presence, socket.id, roomId, this.logger);
          return this.subscriptions.unsubscribe(this.targetFor(socket as GatewaySocket), roomId);
        },
      },
      lifetimeOptions,
      { expired: (socket) => this.logger.log(`token expired ${socket.id} user=${userOf(socket)}; disconnecting`) },
    );
    this.connectionLimits = new ConnectionLimits(limits.connections);
    this.subscriptionLimits = new SubscriptionLimits(limits.subscriptions);
    this.admission = new HandshakeAdmission(limits.handshakes);
  }

  afterInit(server: GatewayServer): void {
    this.drain.attach(server);
    server.use(this.drain.refuseWhileDraining());
    // Before authentication: a refused handshake must cost as little as possible.
    server.use(
      this.admission.middleware(() => {
        gatewayMetrics.connectRejections.inc({ reason: SERVER_BUSY_CONNECT_ERROR });
      }),
    );
    server.use(
      socketAuthMiddleware(this.verifier, (reason) => {
        gatewayMetrics.connectRejections.inc({ reason: UNAUTHORIZED_CONNECT_ERROR });
        this.logger.debug(`handshake rejected: ${reason}`);
      }),
    );
    server.use(
      this.connectionLimits.middleware((reason) => {
        gatewayMetrics.connectRejections.inc({ reason: TOO_MANY_CONNECTIONS_CONNECT_ERROR });
        this.logger.warn(`handshake rejected: ${reason}`);
      }),
    );
  }

  handleConnection(socket: GatewaySocket): void {
    gatewayMetrics.connects.inc();
    gatewayMetrics.activeConnections.inc();
    this.logger.log(`connected ${socket.id} user=${userOf(socket)}`);
    releaseUpgradeRequest(socket);
    this.subscriptions.connect(this.targetFor(socket));
    this.lifetime.track(socket);
    this.admission.connected(socket);
    // One listener function for every socket ('disconnect' fires once per socket).
    socket.on('disconnect', this.onSocketDisconnect);
  }

  handleDisconnect(socket: GatewaySocket): void {
    // Every subscription, window, buffer and timer of the socket goes now, whatever the reason.
    this.subscriptions.disconnect(socket.id);
  }

  /** Shared by all sockets: EventEmitter calls it with the socket as `this`. */
  private readonly onSocketDisconnect = ((gateway: DeliveryGateway) =>
    function (this: GatewaySocket, reason: string): void {
      gateway.disconnected(this, reason);
    })(this);

  private disconnected(socket: GatewaySocket, reason: string): void {
    this.admission.release(socket);
    this.lifetime.forget(socket.id);
    const label = socket.data.closeReason ?? disconnectReasonLabel(reason);
    gatewayMetrics.activeConnections.dec();
    gatewayMetrics.disconnects.inc({ reason: label });
    this.logger.log(`disconnected ${socket.id} user=${userOf(socket)} reason=${label}`);
    this.subscriptions.disconnect(socket.id);
    this.subscriptionLimits.forget(socket.id);
    leaveAllPresence(this.presence, socket.id, this.logger);
  }

  @SubscribeMessage('subscribe')
  async subscribe(
    @ConnectedSocket() socket: GatewaySocket,
    @MessageBody() body: unknown,
    @Ack() ack: unknown,
  ): Promise<void> {
    const respond = guardedAck<SubscribeAck>(ack, this.logger);
    // Every request counts against the churn budget, valid or not: each one costs the gateway work.
    const throttled = this.subscriptionLimits.spend(socket.id);
    if (throttled) return respond(throttled);
    const principal = socket.data.principal;
    if (!principal) return respond(failed(ErrorCode.Unauthorized, 'not authenticated'));
    // The expiry timer may lag under load; the deadline itself is exact.
    if (this.lifetime.expired(principal)) return respond(failed(ErrorCode.Unauthorized, 'token expired'));
    const request = validate(subscribeRequestSchema, body);
    if (!request.ok) return respond(failed(ErrorCode.InvalidRequest, request.message));
    if (!canAccessRoom(principal, 'subscribe', request.value.roomId)) {
      return respond(failed(ErrorCode.Forbidden, `token does not grant subscribe to room ${request.value.roomId}`));
    }
    const overLimit = this.subscriptionLimits.reserve(socket.id, request.value.roomId);
    if (overLimit) return respond(overLimit);
    if (socket.disconnected) return;
    const roomId = request.value.roomId;
    this.admission.subscribing(socket);
    // Presence first, so its baseline precedes the ack (see PresenceService.join).
    const presenceError = request.value.presence ? await joinPresence(this.presence, socket, roomId, this.logger) : undefined;
    if (presenceError) {
      this.admission.release(socket);
      this.subscriptionLimits.release(socket.id, roomId);
      return respond(failed(presenceError.code, presenceError.message));
    }
    try {
      await this.subscriptions.subscribe(this.targetFor(socket), request.value, (response) => {
        if (!response.ok) this.subscriptionLimits.release(socket.id, roomId);
        if (!response.ok && request.value.presence) leavePresence(this.presence, socket.id, roomId, this.logger);
        respond(response);
      });
    } catch (error) {
      this.subscriptionLimits.release(socket.id, roomId);
      if (request.value.presence) leavePresence(this.presence, socket.id, roomId, this.logger);
      this.logger.error(
        `subscribe ${request.value.roomId} failed: ${error instanceof Error ? error.stack : String(error)}`,
      );
      respond(failed(ErrorCode.Internal, 'subscribe failed'));
    }
    // The handshake (connect + first resume) is over: its admission slot goes to the next one.
    this.admission.release(socket);
    // The socket may have gone while history was read; make sure nothing of it stays registered.
    if (socket.disconnected) this.subscriptions.disconnect(socket.id);
  }

  @SubscribeMessage('unsubscribe')
  async unsubscribe(
    @ConnectedSocket() socket: GatewaySocket,
    @MessageBody() body: unknown,
    @Ack() ack: unknown,
  ): Promise<void> {
    const respond = guardedAck<UnsubscribeAck>(ack, this.logger);
    const throttled = this.subscriptionLimits.spend(socket.id);
    if (throttled) return respond(throttled);
    const request = validate(unsubscribeRequestSchema, body);
    if (!request.ok) return respond(failed(ErrorCode.InvalidRequest, request.message));
    const result = this.subscriptions.unsubscribe(this.targetFor(socket), request.value.roomId);
    if (result.ok) this.subscriptionLimits.release(socket.id, request.value.roomId);
    leavePresence(this.presence, socket.id, request.value.roomId, this.logger);
    respond(result);
  }

  /** A new token for the live socket: moves its deadline and re-checks its subscriptions. */
  @SubscribeMessage('refresh')
  async refresh(@ConnectedSocket() socket: GatewaySocket, @MessageBody() body: unknown, @Ack() ack: unknown): Promise<void> {
    const respond = guardedAck<RefreshAck>(ack, this.logger);
    const result = await this.lifetime.refresh(socket, body);
    if (result.ok) {
      this.logger.debug(`token refreshed ${socket.id} user=${userOf(socket)} until ${result.expiresAt}`);
    } else {
      this.logger.debug(`refresh refused ${socket.id} user=${userOf(socket)}: ${result.error.message}`);
    }
    respond(result);
  }

  /** `presence { roomId }`: the room's members across gateways (presence/presence.service.ts). */
  @SubscribeMessage('presence')
  async presenceOf(@ConnectedSocket() socket: GatewaySocket, @MessageBody() body: unknown, @Ack() ack: unknown): Promise<void> {
    const respond = guardedAck<PresenceAck>(ack, this.logger);
    // Each list is a database read: it spends the socket's subscribe/unsubscribe budget.
    const throttled = this.subscriptionLimits.spend(socket.id);
    if (throttled) return respond(throttled);
    respond(await presenceList(this.presence, socket, body, this.logger));
  }

  /** `publish { roomId, clientMsgId, payload }`: the HTTP publish over this socket (./socket-publish.ts). */
  @SubscribeMessage('publish')
  async publish(@ConnectedSocket() socket: GatewaySocket, @MessageBody() body: unknown, @Ack() ack: unknown): Promise<void> {
    const respond = guardedAck<PublishAck>(ack, this.logger);
    if (!this.publisher) {
      return respond(failed(ErrorCode.Unavailable, 'publishing over the socket is not enabled on this gateway; use HTTP'));
    }
    const principal = socket.data.principal;
    // The expiry timer may lag under load; the deadline itself is exact.
    if (principal && this.lifetime.expired(principal)) return respond(failed(ErrorCode.Unauthorized, 'token expired'));
    respond(await this.publisher.publish({ principal, draining: this.drain.draining }, body));
  }

  /** Cumulative `ack { roomId, seq }`: no answer; anything invalid is ignored and counted. */
  @SubscribeMessage('ack')
  ack(@ConnectedSocket() socket: GatewaySocket, @MessageBody() body: unknown): void {
    const request = validate(ackRequestSchema, body);
    if (!request.ok) {
      gatewayMetrics.invalidAcks.inc({ reason: 'malformed' });
      return;
    }
    this.subscriptions.ack(socket.id, request.value.roomId, request.value.seq);
  }

  private targetFor(socket: GatewaySocket): DeliveryTarget {
    let target = this.targets.get(socket);
    if (!target) {
      target = socketTarget(socket, this.logger);
      this.targets.set(socket, target);
    }
    return target;
  }
}

const DEFAULT_LIFETIME: TokenLifetimeOptions = { leadMs: 60_000 };

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
