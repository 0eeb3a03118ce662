// Public API of @seqcast/gateway-delivery: live Socket.IO delivery as one Nest module plus its adapter.
export { DeliveryModule, type DeliveryModuleOptions, type HostProvided } from './lib/delivery.module';
export { EdgeIoAdapter, type EdgeIoOptions } from './lib/edge-io.adapter';
export { EventsConsumerService } from './lib/events-consumer.service';
export { SubscriptionService, type SubscriptionOptions } from './lib/subscription.service';
