// Public API of @seqcast/gateway-delivery: live Socket.IO delivery as one Nest module plus its adapter.
export { DeliveryModule, type DeliveryModuleOptions, type HostProvided } from './lib/delivery.module';
export type { SessionPolicy } from './lib/delivery-session';
export { type DrainOptions, DrainService } from './lib/drain.service';
export { EdgeIoAdapter, type EdgeIoOptions } from './lib/edge-io.adapter';
export { EventsConsumerService } from './lib/events-consumer.service';
export type { RoomCacheOptions } from './lib/room-registry';
export { SubscriptionService, type SubscriptionOptions } from './lib/subscription.service';
export type { SseOptions } from './lib/sse/sse.controller';
export type { PresenceOptions } from './lib/presence/presence.service';
export type { SocketPublishOptions } from './lib/socket-publish';
