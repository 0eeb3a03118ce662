/** What a credential may do with a room. */
export type Capability = 'publish' | 'subscribe' | 'history';

export const CAPABILITIES: readonly Capability[] = ['publish', 'subscribe', 'history'];

/** Room patterns per capability (glob, `*` = any run of characters). */
export type Grants = Record<Capability, string[]>;

/** Who a verified credential speaks for and which rooms it may use for what. */
export interface Principal {
  /** The JWT's `sub`, or `apikey:<name>` for an API key (so a key can never pose as a user). */
  userId: string;
  kind: 'token' | 'api_key';
  grants: Grants;
  /** When the token stops being valid; undefined for API keys (they are revoked instead). */
  expiresAt?: Date;
}
