import type { ConnectionLimitOptions } from './connection-limits';
import type { HandshakeAdmissionOptions } from './handshake-admission';
import type { SubscriptionLimitOptions } from './subscription-limits';

/** Every configured gateway limit (docs/protocol.md "Limits"); 0 turns a limit off. */
export interface GatewayLimitOptions {
  connections: ConnectionLimitOptions;
  subscriptions: SubscriptionLimitOptions;
  /** Handshakes in progress at once (./handshake-admission.ts). */
  handshakes: HandshakeAdmissionOptions;
}

/** What the module uses when the host passes no limits (tests of other features): none. */
export const NO_LIMITS: GatewayLimitOptions = {
  connections: { maxPerPrincipal: 0, maxPerAddress: 0 },
  subscriptions: { maxPerSocket: 0, opsPerMinute: 0 },
  handshakes: { maxInFlight: 0 },
};

export const GATEWAY_LIMITS = Symbol('GATEWAY_LIMITS');
