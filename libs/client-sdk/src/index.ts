// Public API of @seqcast/client.
export { backoffDelay, type BackoffOptions } from './lib/backoff';
export { type Cursor, type CursorStorage, type CursorStore, LocalStorageCursorStore, MemoryCursorStore } from './lib/cursor-store';
export {
  type ConnectionState,
  type GapInfo,
  type HistoryOptions,
  type HistoryPage,
  type PublishOptions,
  type PublishRetryOptions,
  type ReconnectOptions,
  type RoomMessage,
  SeqcastClient,
  type SeqcastClientOptions,
  type StateDetail,
  type TokenSource,
} from './lib/seqcast-client';
export { SeqcastError, type SeqcastErrorCode } from './lib/seqcast-error';
export type { PresenceChange, PresenceList, PresenceMember } from './lib/presence';
export type { JsonValue, Message, PublishResult } from '@seqcast/contracts/wire';
