// Public API of @seqcast/gateway-delivery.
